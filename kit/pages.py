"""Landing pages described by TOML files in ``pages/``.

The dataclasses below *are* the schema: the validator walks their type hints, so a field
added here is validated, documented (``schema_reference``) and available to templates at
once. Loading returns every error of every file in one go, each naming the file and key path.
"""

from __future__ import annotations

import difflib
import math
import re
import tomllib
import typing
from dataclasses import MISSING
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from dataclasses import is_dataclass
from dataclasses import replace
from pathlib import Path
from types import UnionType
from typing import Any
from typing import Literal

from .config import WEBHOOK_URL_MAX
from .toml_lines import line_of

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")
COLOUR_RE = re.compile(r"^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{6})$")
LANGUAGE_RE = re.compile(r"^[a-zA-Z]{2,3}(?:-[A-Za-z0-9]{2,8})*$")
STARTER_PATH = Path(__file__).with_name("starter.toml")
TAGLINE_MARKS = (" — ", " – ", " | ", " - ", ": ")
RESERVED_SLUGS = {
    "admin",
    "api",
    "static",
    "go",
    "embed",
    "healthz",
    "favicon.ico",
    "robots.txt",
}


def _doc(text: str, check: typing.Callable[[Any], str | None] | None = None) -> Any:
    return {"doc": text, "check": check}


# Characters no page text may hold: C0 controls other than tab, newline and carriage return,
# DEL and the C1 controls (NUL can't be stored by PostgreSQL; none can be shown).
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f]")
# What ends a line in a mail header (Python's e-mail package splits headers at each of these).
LINE_BREAK_RE = re.compile(r"[\r\n\x1c-\x1e\x85\u2028\u2029]")
TIER_NAME_MAX = 64  # pre_order.tier


def _one_line(value: str) -> str | None:
    """For keys that reach a mail header (the subject): a line break would break every mail."""
    return "one line of text (it goes into mail subjects)" if LINE_BREAK_RE.search(value) else None


def _tier_name(value: str) -> str | None:
    if 0 < len(value.strip()) <= TIER_NAME_MAX:
        return None
    return f"a name of 1 to {TIER_NAME_MAX} characters (it is stored with each pre-order)"


def _colour(value: str) -> str | None:
    return None if COLOUR_RE.match(value) else 'a colour like "#4f46e5"'


def _language(value: str) -> str | None:
    return None if LANGUAGE_RE.match(value) else 'a language tag like "en" or "pt-BR"'


def _name(value: str) -> str | None:
    return None if NAME_RE.match(value) else "a URL-safe name (letters, digits, - _ .)"


def _in_one_piece(value: str) -> bool:
    """No space, line break or invisible character: a URL that goes into a Location header or
    an attribute as it is."""
    return all(char.isprintable() and not char.isspace() for char in value)


def _link(value: str) -> str | None:
    if not _in_one_piece(value):
        return "a link without spaces, line breaks or invisible characters"
    if value.startswith(("https://", "http://", "mailto:")) or (
        value.startswith("/") and not value.startswith("//")
    ):
        return None
    return 'a link starting with "https://", "http://", "mailto:" or "/"'


def _image(value: str) -> str | None:
    if not _in_one_piece(value):
        return "a file name or URL without spaces, line breaks or invisible characters"
    if value == "" or value.startswith(("https://", "http://")):
        return None
    if value.startswith("/") or ".." in value.split("/") or "\\" in value:
        return 'a file name inside static/ (like "hero.svg") or an https:// URL'
    return None


ORIGIN_RE = re.compile(r"^https?://[a-z0-9.-]+(?::\d{1,5})?$")


def _origin(value: str) -> str | None:
    if ORIGIN_RE.match(value):
        return None
    return 'a site origin like "https://mysite.carrd.co" (scheme and host, no path, no *)'


def _absolute_url(value: str) -> str | None:
    if not _in_one_piece(value):
        return "a URL without spaces, line breaks or invisible characters"
    if value == "" or value.startswith(("https://", "http://")):
        return None
    return 'an absolute URL starting with "https://"'


def _webhook_url(value: str) -> str | None:
    if len(value) > WEBHOOK_URL_MAX:
        return f"a URL of at most {WEBHOOK_URL_MAX} characters"
    return _absolute_url(value)


@dataclass(frozen=True)
class Feature:
    """One benefit in the features list."""

    title: str = field(metadata=_doc("Short benefit title."))
    text: str = field(default="", metadata=_doc("One or two sentences about it."))


@dataclass(frozen=True)
class Question:
    """One FAQ entry."""

    question: str = field(metadata=_doc("The question as a visitor would ask it."))
    answer: str = field(metadata=_doc("The answer; blank lines separate paragraphs."))


@dataclass(frozen=True)
class Testimonial:
    """Social proof: a quote and who said it."""

    quote: str = field(metadata=_doc("What they said."))
    author: str = field(metadata=_doc("Who said it."))
    role: str = field(default="", metadata=_doc("Their role or company."))


def _checkout(value: str) -> str | None:
    if not _in_one_piece(value):
        return "a URL without spaces, line breaks or invisible characters"
    if value == "" or value.startswith("https://"):
        return None
    return 'a Stripe Payment Link starting with "https://" (like "https://buy.stripe.com/…")'


@dataclass(frozen=True)
class Tier:
    """A pricing-teaser tier; its button can be a tracked fake-door goal or a paid pre-order."""

    name: str = field(metadata=_doc('Tier name, e.g. "Pro" (64 characters at most).', _tier_name))
    price: str = field(metadata=_doc('Price as shown, e.g. "$9/month".'))
    text: str = field(default="", metadata=_doc("What the tier includes."))
    goal: str = field(
        default="",
        metadata=_doc("Name of a [[goals]] entry its button goes to (tracked).", _name),
    )
    checkout_url: str = field(
        default="",
        metadata=_doc(
            "A Stripe Payment Link: the button goes through /checkout/<page>/<tier> (counted "
            "per visitor and variant) to it, and the paid order is counted from Stripe's "
            "webhook (see Run a demand test).",
            _checkout,
        ),
    )
    checkout_label: str = field(default="Pre-order", metadata=_doc("Its button's text."))

    @property
    def key(self) -> str:
        """The tier's name in URLs and Stripe references: "Pro team" -> "pro-team"."""
        return tier_key(self.name)


def tier_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "tier"


@dataclass(frozen=True)
class Pricing:
    """The optional pricing teaser."""

    title: str = field(default="Pricing", metadata=_doc("Section heading."))
    text: str = field(default="", metadata=_doc("Sentence under the heading."))
    tiers: tuple[Tier, ...] = field(default=(), metadata=_doc("The tiers shown."))


@dataclass(frozen=True)
class Link:
    """A footer link such as the privacy policy."""

    label: str = field(metadata=_doc("Link text."))
    url: str = field(metadata=_doc("Where it goes: https://, mailto: or /path.", _link))


@dataclass(frozen=True)
class Form:
    """What the signup form asks for (the e-mail address is always asked)."""

    ask_name: bool = field(default=False, metadata=_doc("Also ask for a name."))
    question: str = field(
        default="",
        metadata=_doc("Label of one optional free-text question; empty: not asked."),
    )
    consent: str = field(
        default="",
        metadata=_doc("Consent line the visitor must tick; its text is stored."),
    )
    email_label: str = field(default="Email address", metadata=_doc("Label of the e-mail field."))


@dataclass(frozen=True)
class Meta:
    """Search and link-preview metadata."""

    description: str = field(default="", metadata=_doc("Meta and Open Graph description."))
    canonical_url: str = field(
        default="", metadata=_doc("Canonical absolute URL of the page.", _absolute_url)
    )
    image: str = field(
        default="",
        metadata=_doc("Open Graph/Twitter image: file in static/ or https:// URL.", _image),
    )
    twitter_site: str = field(default="", metadata=_doc('Twitter/X handle, e.g. "@acme".'))


@dataclass(frozen=True)
class Theme:
    """Colours and type; every value is checked so nothing can inject CSS."""

    accent: str = field(default="#4338ca", metadata=_doc("Button and link colour.", _colour))
    accent_text: str = field(
        default="#ffffff", metadata=_doc("Text colour on the accent colour.", _colour)
    )
    font: Literal["system", "humanist", "serif", "rounded", "mono"] = field(
        default="system",
        metadata=_doc("Font stack from the visitor's own fonts (nothing is downloaded)."),
    )
    mode: Literal["light", "dark", "auto"] = field(
        default="auto",
        metadata=_doc("Colour scheme; auto follows the visitor's device."),
    )

    @property
    def css(self) -> str:
        """The page's inline style; the security policy allows exactly these texts by hash."""
        return f":root{{--accent:{self.accent};--accent-text:{self.accent_text}}}"


@dataclass(frozen=True)
class Content:
    """Everything a visitor sees; an experiment variant may override any of it."""

    title: str = field(metadata=_doc("Browser tab and search result title.", _one_line))
    headline: str = field(metadata=_doc("The big promise at the top (h1)."))
    product_name: str = field(
        default="",
        metadata=_doc(
            "The product's name in headings, the thank-you and status pages and mail subjects; "
            'empty: the title up to its first " — ", " | ", " - " or ": ".',
            _one_line,
        ),
    )
    logo: str = field(
        default="",
        metadata=_doc("Logo above every visitor page: file in static/ or https:// URL.", _image),
    )
    subheadline: str = field(default="", metadata=_doc("One sentence under the headline."))
    hero_image: str = field(
        default="", metadata=_doc("Image: file in static/ or https:// URL.", _image)
    )
    hero_alt: str = field(default="", metadata=_doc("Describes the hero image for screen readers."))
    cta: str = field(default="Join the waitlist", metadata=_doc("Signup button text."))
    thanks: str = field(
        default="Thanks, you're on the list! We'll write when it's ready.",
        metadata=_doc("Message on the thank-you page."),
    )
    features_title: str = field(
        default="Why you'll love it", metadata=_doc("Heading above the features.")
    )
    features: tuple[Feature, ...] = field(default=(), metadata=_doc("Benefits list."))
    testimonials_title: str = field(
        default="What people say", metadata=_doc("Heading above the testimonials.")
    )
    faq_title: str = field(default="Questions", metadata=_doc("Heading above the FAQ."))
    faq: tuple[Question, ...] = field(default=(), metadata=_doc("Questions and answers."))
    testimonials: tuple[Testimonial, ...] = field(default=(), metadata=_doc("Social proof."))
    pricing: Pricing | None = field(default=None, metadata=_doc("Optional pricing teaser."))
    footer_links: tuple[Link, ...] = field(default=(), metadata=_doc("Footer links."))
    form: Form = field(default_factory=Form, metadata=_doc("Signup form fields."))
    second_cta: Literal["link", "form", "none"] = field(
        default="link",
        metadata=_doc(
            "After the page's content, for a visitor convinced by then: a button back to the "
            'form ("link"), a second form ("form") or nothing ("none").'
        ),
    )
    meta: Meta = field(default_factory=Meta, metadata=_doc("SEO and social metadata."))
    theme: Theme = field(default_factory=Theme, metadata=_doc("Colours and fonts."))
    language: str = field(default="en", metadata=_doc("Page language tag.", _language))

    @property
    def closing_cta(self) -> str:
        """The second call to action, or "" where the page has no content below the form."""
        below = self.features or self.testimonials or self.pricing or self.faq
        return self.second_cta if below and self.second_cta != "none" else ""

    @property
    def name(self) -> str:
        """The product's name: ``product_name``, else the title without its tagline."""
        return self.product_name or product_name_from(self.title)

    @property
    def tiers(self) -> tuple[Tier, ...]:
        """The pricing teaser's tiers; none without a teaser."""
        return self.pricing.tiers if self.pricing is not None else ()


def product_name_from(title: str) -> str:
    """"Quillnote — notes that write themselves" -> "Quillnote"."""
    cut = min((title.find(mark) for mark in TAGLINE_MARKS if mark in title), default=-1)
    return title[:cut].strip() if cut > 0 else title


@dataclass(frozen=True)
class Goal:
    """A tracked click-through ("fake door") such as a Buy button."""

    name: str = field(metadata=_doc("URL-safe name used in /go/<page>/<name>.", _name))
    label: str = field(metadata=_doc("Button text."))
    url: str = field(
        default="",
        metadata=_doc("Where the click lands (https://…); empty: a 'coming soon' page.", _link),
    )
    message: str = field(
        default="Thanks for your interest! This isn't available yet — join the waitlist "
        "and you'll be the first to know.",
        metadata=_doc("Text of the 'coming soon' page."),
    )


@dataclass(frozen=True)
class Reward:
    """A reward for referring friends, shown on the person's status page."""

    referrals: int = field(metadata=_doc("Friends who must join (confirmed, with double opt-in)."))
    reward: str = field(metadata=_doc('What they get, e.g. "Early access".'))


@dataclass(frozen=True)
class Webhook:
    """A URL that receives signup events for this page (besides WEBHOOK_URLS)."""

    url: str = field(metadata=_doc("Receiver URL (https://…).", _webhook_url))
    format: Literal["json", "slack"] = field(
        default="json", metadata=_doc('"json" (signed event) or "slack" (incoming webhook).')
    )


@dataclass(frozen=True)
class Waitlist:
    """How this page's waitlist grows and confirms: referrals, double opt-in, webhooks."""

    double_opt_in: bool = field(
        default=False,
        metadata=_doc("Ask every signup to confirm by e-mail; only confirmed ones count."),
    )
    referral_bump: int = field(
        default=5,
        metadata=_doc("Each friend who joins counts as joining this many places earlier."),
    )
    rewards: tuple[Reward, ...] = field(default=(), metadata=_doc("Referral reward tiers."))
    social_proof_from: int = field(
        default=100,
        metadata=_doc(
            'Show "Join N others" under the form once the list has this many people '
            "(confirmed ones, with double opt-in); 0: never."
        ),
    )
    share_text: str = field(
        default="I just joined the waitlist — you can too:",
        metadata=_doc("Text put before the share link in share buttons."),
    )
    webhooks: tuple[Webhook, ...] = field(default=(), metadata=_doc("Per-page webhooks."))


@dataclass(frozen=True)
class Embed:
    """The form alone at /embed/<page>, for a site built elsewhere (Carrd, Webflow, WordPress)."""

    origins: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "The sites allowed to show the form in an <iframe>, e.g. "
            '["https://mysite.carrd.co"]; none: the form cannot be embedded.',
            _origin,
        ),
    )


@dataclass(frozen=True)
class VariantConfig:
    """One arm of an experiment; any other key overrides the page content for this arm."""

    name: str = field(metadata=_doc('URL-safe variant name, e.g. "b".', _name))
    weight: float = field(default=1.0, metadata=_doc("Share of traffic (relative, > 0)."))
    control: bool = field(default=False, metadata=_doc("The baseline (default: first)."))


@dataclass(frozen=True)
class ExperimentConfig:
    """An A/B test on this page."""

    key: str = field(metadata=_doc("Experiment key; change it to start a fresh experiment.", _name))
    winner: str = field(
        default="", metadata=_doc("Set to a variant name to end the test: all see it.")
    )


@dataclass(frozen=True)
class Variant:
    """A variant ready to serve: its name, traffic weight and merged content."""

    name: str
    weight: float
    control: bool
    content: Content
    changes: tuple[str, ...] = ()  # the content keys it overrides, e.g. "headline", "form.cta"


@dataclass(frozen=True)
class Experiment:
    """A validated experiment with its variants' merged content; control first."""

    key: str
    variants: tuple[Variant, ...]
    winner: str = ""

    @property
    def control(self) -> Variant:
        return self.variants[0]

    @property
    def running(self) -> bool:
        return not self.winner

    def variant(self, name: str) -> Variant | None:
        return next((v for v in self.variants if v.name == name), None)


@dataclass(frozen=True)
class Page:
    """A landing page: its slug, base content, optional experiment and goals."""

    slug: str
    content: Content
    experiment: Experiment | None = None
    goals: tuple[Goal, ...] = ()
    waitlist: Waitlist = Waitlist()
    embed: Embed = Embed()

    def goal(self, name: str) -> Goal | None:
        return next((g for g in self.goals if g.name == name), None)

    @property
    def tiers(self) -> list[Tier]:
        """The pricing tiers of the page and of its variants."""
        return [tier for _, content in self.contents() for tier in content.tiers]

    @property
    def checkouts(self) -> bool:
        """Some tier, in the page or a variant, takes paid pre-orders."""
        return any(tier.checkout_url for tier in self.tiers)

    def contents(self) -> list[tuple[str, Content]]:
        """The base content and each variant's, with the key prefix that names it in the file."""
        return _contents(self.content, self.experiment)


def _contents(content: Content, experiment: Experiment | None) -> list[tuple[str, Content]]:
    variants = experiment.variants if experiment else ()
    return [("", content)] + [
        (f"experiment.variants[{i}].", v.content) for i, v in enumerate(variants)
    ]


@dataclass(frozen=True)
class PageConfigError:
    """One problem in one page file, pointing at the key to fix."""

    file: str
    path: str
    message: str
    line: int | None = None  # where the file writes the key (or its table), when known

    def __str__(self) -> str:
        file = f"{self.file}:{self.line}" if self.line else self.file
        where = f"{file}: {self.path}" if self.path else file
        return f"{where}: {self.message}"


class _Errors(list):
    def add(self, path: str, message: str) -> None:
        self.append((path, message))


_TYPE_NAMES = {
    str: "text",
    bool: "true or false",
    int: "a whole number",
    float: "a number",
}


def _describe(value: Any) -> str:
    kind = {dict: "a table", list: "a list", bool: "a boolean", str: "text"}.get(type(value))
    return kind or f"{type(value).__name__} {value!r}"


def _convert(tp: Any, value: Any, path: str, errors: _Errors, partial: bool) -> Any:
    """Check ``value`` against type ``tp``; return the converted value or MISSING."""
    origin = typing.get_origin(tp)
    if origin in (typing.Union, UnionType):
        inner = next(a for a in typing.get_args(tp) if a is not type(None))
        return _convert(inner, value, path, errors, partial)
    if origin is Literal:
        choices = typing.get_args(tp)
        if value in choices:
            return value
        errors.add(path, f"expected one of {', '.join(map(repr, choices))}, got {value!r}")
        return MISSING
    if origin is tuple:
        item_type = typing.get_args(tp)[0]
        if not isinstance(value, list):
            errors.add(path, f"expected a list, got {_describe(value)}")
            return MISSING
        items = [
            _convert(item_type, item, f"{path}[{i}]", errors, partial=False)
            for i, item in enumerate(value)
        ]
        return tuple(items)
    if is_dataclass(tp):
        if not isinstance(value, dict):
            errors.add(path, f"expected a table, got {_describe(value)}")
            return MISSING
        return _build(tp, value, path, errors, partial)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if type(value) is not tp:
        errors.add(path, f"expected {_TYPE_NAMES[tp]}, got {_describe(value)}")
        return MISSING
    control = CONTROL_RE.search(value) if tp is str else None
    if control:
        code = f"U+{ord(control.group()):04X}"
        errors.add(path, f"a control character ({code}) can't be stored or shown: remove it")
        return MISSING
    return value


def _build(
    cls: type,
    data: dict,
    path: str,
    errors: _Errors,
    partial: bool,
    extra: frozenset = frozenset(),
) -> Any:
    """Build dataclass ``cls`` from a TOML table, collecting every error with its key path.

    With ``partial`` only the keys present are checked and a dict is returned (variant overrides).
    """
    start = len(errors)
    hints = typing.get_type_hints(cls)
    known = {f.name: f for f in fields(cls)}
    prefix = f"{path}." if path else ""
    for key in data:
        if key not in known and key not in extra:
            errors.add(f"{prefix}{key}", _unknown_key(key, [*known, *sorted(extra)]))
    values: dict[str, Any] = {}
    for name, spec in known.items():
        key_path = f"{prefix}{name}"
        if name not in data:
            required = spec.default is MISSING and spec.default_factory is MISSING
            if required and not partial:
                errors.add(key_path, f"required: {spec.metadata['doc'].rstrip('.').lower()}")
            continue
        before = len(errors)
        value = _convert(hints[name], data[name], key_path, errors, partial)
        check = spec.metadata.get("check")
        if len(errors) == before and check is not None:
            # A text is checked as it is; a list of texts item by item.
            items = []
            if isinstance(value, str):
                items = [(key_path, value)]
            elif isinstance(value, tuple):
                items = [(f"{key_path}[{i}]", v) for i, v in enumerate(value) if isinstance(v, str)]
            for item_path, item in items:
                expected = check(item)
                if expected:
                    errors.add(item_path, f"expected {expected}, got {item!r}")
        values[name] = value
    if partial:
        return values
    if len(errors) > start:
        return None
    return cls(**values)


def _unknown_key(key: str, known: list[str]) -> str:
    """"unknown key (did you mean 'headline'?; known keys: ...)"."""
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"did you mean {close[0]!r}?; " if close else ""
    return f"unknown key ({hint}known keys: {', '.join(known)})"


def _key_paths(table: dict, prefix: str = "") -> list[str]:
    """The dotted keys a table sets, tables opened: {"form": {"cta": ..}} -> ["form.cta"]."""
    paths = []
    for key, value in table.items():
        if isinstance(value, dict):
            paths.extend(_key_paths(value, f"{prefix}{key}."))
        else:
            paths.append(f"{prefix}{key}")
    return paths


def _merge(base: dict, override: dict) -> dict:
    """Deep-merge tables; lists and plain values in ``override`` replace the base's."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            merged[key] = _merge(base[key], value)
        else:
            merged[key] = value
    return merged


_PAGE_KEYS = frozenset({"embed", "experiment", "goals", "waitlist"})
_VARIANT_KEYS = frozenset(f.name for f in fields(VariantConfig))


def parse_page(slug: str, data: dict, file: str = "") -> tuple[Page | None, list[PageConfigError]]:
    """Validate one page's parsed TOML and return the page, or every error found in it."""
    errors = _Errors()
    file = file or f"{slug}.toml"
    if not SLUG_RE.match(slug) or slug in RESERVED_SLUGS:
        errors.add(
            "",
            "bad file name: use lower-case letters, digits and dashes "
            f"(and not one of {', '.join(sorted(RESERVED_SLUGS))})",
        )
    base = {k: v for k, v in data.items() if k not in _PAGE_KEYS}
    content = _build(Content, base, "", errors, partial=False, extra=_PAGE_KEYS)
    goals = _convert(tuple[Goal, ...], data.get("goals", []), "goals", errors, False)
    waitlist = _convert(Waitlist, data.get("waitlist", {}), "waitlist", errors, False)
    if isinstance(waitlist, Waitlist):
        if waitlist.referral_bump < 0:
            errors.add("waitlist.referral_bump", "expected 0 or more places")
        for i, reward in enumerate(waitlist.rewards):
            if reward.referrals < 1:
                errors.add(f"waitlist.rewards[{i}].referrals", "expected 1 or more friends")
    embed = _convert(Embed, data.get("embed", {}), "embed", errors, False)
    experiment = None
    if "experiment" in data:
        # Variants are merged over a valid base only, so base errors are reported once.
        experiment = _parse_experiment(data["experiment"], base if content else None, errors)
    if isinstance(goals, tuple):
        # Checked whatever else is wrong, so one run of `kit check` reports every problem.
        _check_references(data, tuple(goal for goal in goals if isinstance(goal, Goal)), errors)
    if errors:
        return None, [PageConfigError(file, p, m) for p, m in errors]
    return Page(slug, content, experiment, goals, waitlist, embed), []


def _parse_experiment(raw: Any, base: dict | None, errors: _Errors) -> Experiment | None:
    if not isinstance(raw, dict):
        errors.add("experiment", f"expected a table, got {_describe(raw)}")
        return None
    before = len(errors)
    config = _build(ExperimentConfig, raw, "experiment", errors, False, frozenset({"variants"}))
    raw_variants = raw.get("variants", [])
    if not isinstance(raw_variants, list):
        errors.add("experiment.variants", f"expected a list, got {_describe(raw_variants)}")
        raw_variants = []
    variants: list[Variant] = []
    specs: list[VariantConfig] = []
    for i, item in enumerate(raw_variants):
        path = f"experiment.variants[{i}]"
        if not isinstance(item, dict):
            errors.add(path, f"expected a table, got {_describe(item)}")
            continue
        # Variant keys are checked as a VariantConfig, every other key as a content override.
        own = {k: v for k, v in item.items() if k in _VARIANT_KEYS}
        override = {k: v for k, v in item.items() if k not in _VARIANT_KEYS}
        spec = _build(VariantConfig, own, path, errors, partial=False)
        _build(Content, override, path, errors, partial=True)
        if spec is None:
            continue
        # TOML allows nan and inf; neither can be placed on the cumulative weights.
        if not 0 < spec.weight < math.inf:
            errors.add(f"{path}.weight", f"expected a finite number > 0, got {spec.weight}")
        specs.append(spec)
        if base is not None and len(errors) == before:
            content = _build(Content, _merge(base, override), path, errors, partial=False)
            changes = tuple(_key_paths(override))
            variants.append(Variant(spec.name, spec.weight, spec.control, content, changes))
    # The rules between variants, checked on every variant that parsed (whatever else is wrong).
    names = [spec.name for spec in specs]
    if len(raw_variants) < 2:
        errors.add("experiment.variants", "expected at least two variants")
    if len(set(names)) != len(names):
        errors.add("experiment.variants", f"variant names must be unique, got {names}")
    if sum(spec.control for spec in specs) > 1:
        errors.add("experiment.variants", "only one variant can be marked control = true")
    if config is not None and config.winner and config.winner not in names:
        errors.add("experiment.winner", f"expected one of {names}, got {config.winner!r}")
    if config is None or base is None or len(errors) > before:
        return None
    controls = [v for v in variants if v.control]
    control = controls[0] if controls else variants[0]
    ordered = [replace(control, control=True)] + [v for v in variants if v is not control]
    return Experiment(config.key, tuple(ordered), config.winner)


def _check_references(data: dict, goals: tuple[Goal, ...], errors: _Errors) -> None:
    """Cross-field rules: goal names unique, tiers point at goals that exist. Read from the
    file's tables, so they are checked whatever else is wrong with the page."""
    names = [g.name for g in goals]
    if len(set(names)) != len(names):
        errors.add("goals", f"goal names must be unique, got {names}")
    experiment = data.get("experiment")
    variants = experiment.get("variants") if isinstance(experiment, dict) else None
    tables = [("", data)] + [
        (f"experiment.variants[{i}].", variant)
        for i, variant in enumerate(variants if isinstance(variants, list) else [])
    ]
    for prefix, table in tables:
        pricing = table.get("pricing") if isinstance(table, dict) else None
        tiers = pricing.get("tiers") if isinstance(pricing, dict) else None
        keys: list[str] = []
        for i, tier in enumerate(tiers if isinstance(tiers, list) else []):
            if not isinstance(tier, dict):
                continue
            goal = tier.get("goal")
            if isinstance(goal, str) and goal and goal not in names:
                errors.add(
                    f"{prefix}pricing.tiers[{i}].goal",
                    f"no [[goals]] entry named {goal!r} (goals: {names or 'none'})",
                )
            if goal and tier.get("checkout_url"):
                errors.add(
                    f"{prefix}pricing.tiers[{i}].checkout_url",
                    "a tier's button goes to a goal or to a checkout, not both",
                )
            if isinstance(tier.get("name"), str):
                key = tier_key(tier["name"])
                if key in keys:
                    errors.add(
                        f"{prefix}pricing.tiers[{i}].name",
                        f"two tiers are called {key!r} in links: give them different names",
                    )
                keys.append(key)


def load_page_file(
    path: Path, static_dir: Path | None = None
) -> tuple[Page | None, list[PageConfigError]]:
    """Read and validate one page file; a syntax error is reported with its line."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        return None, [PageConfigError(path.name, "", f"not valid TOML: {error}")]
    except OSError as error:  # a directory, a link to nowhere, no permission
        return None, [PageConfigError(path.name, "", f"can't be read: {error.strerror}")]
    page, errors = parse_page(path.stem, data, path.name)
    if page is not None and static_dir is not None:
        errors = _missing_static_files(page, path.name, static_dir)
        if errors:
            page = None
    return page, [replace(error, line=line_of(text, error.path)) for error in errors]


def _missing_static_files(page: Page, file: str, static_dir: Path) -> list[PageConfigError]:
    errors = []
    for prefix, content in page.contents():
        for key, name in (
            ("hero_image", content.hero_image),
            ("logo", content.logo),
            ("meta.image", content.meta.image),
        ):
            if name and not name.startswith(("https://", "http://")):
                if not (static_dir / name).is_file():
                    errors.append(PageConfigError(file, prefix + key, f"no file static/{name}"))
    return errors


def page_files(pages_dir: Path) -> list[Path]:
    """The page files: ``*.toml``, except hidden ones (an editor's lock file, ``.#demo.toml``,
    is a link to nowhere; its backups start with a dot too)."""
    return sorted(p for p in Path(pages_dir).glob("*.toml") if not p.name.startswith("."))


def _stamp(path: Path) -> tuple[int, int]:
    """When the file last changed and its size; (0, 0) when it can't be read (its load says
    why)."""
    try:
        info = path.stat()
    except OSError:
        return 0, 0
    return info.st_mtime_ns, info.st_size


def load_pages(
    pages_dir: Path, static_dir: Path | None = None
) -> tuple[dict[str, Page], list[PageConfigError]]:
    """Load every ``*.toml`` page; valid pages load even when others have errors."""
    pages: dict[str, Page] = {}
    errors: list[PageConfigError] = []
    for path in page_files(pages_dir):
        page, page_errors = load_page_file(path, static_dir)
        if page is not None:
            pages[page.slug] = page
        errors.extend(page_errors)
    return pages, errors


def schema_reference() -> str:
    """Render the page-file reference (a Markdown table) from the dataclasses above."""
    lines = ["| key | type | default | what it is |", "| --- | --- | --- | --- |"]

    def walk(cls: type, prefix: str) -> None:
        hints = typing.get_type_hints(cls)
        nested = []
        for spec in fields(cls):
            tp = hints[spec.name]
            inner = [a for a in typing.get_args(tp) if a is not type(None) and a is not Ellipsis]
            target = inner[0] if inner and is_dataclass(inner[0]) else tp
            if spec.default is not MISSING:
                default = "—" if spec.default in (None, ()) else f"`{_toml(spec.default)}`"
            elif spec.default_factory is not MISSING:
                default = "see below"
            else:
                default = "**required**"
            kind = _type_label(tp)
            lines.append(f"| `{prefix}{spec.name}` | {kind} | {default} | {spec.metadata['doc']} |")
            if is_dataclass(target):
                suffix = "[]" if typing.get_origin(tp) is tuple else ""
                nested.append((target, f"{prefix}{spec.name}{suffix}."))
        for target, sub in nested:
            walk(target, sub)

    walk(Content, "")
    walk(ExperimentConfig, "experiment.")
    walk(VariantConfig, "experiment.variants[].")
    walk(Goal, "goals[].")
    walk(Waitlist, "waitlist.")
    walk(Embed, "embed.")
    return "\n".join(lines) + "\n"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace('"', '\\"') + '"'
    return repr(value)


def _type_label(tp: Any) -> str:
    origin = typing.get_origin(tp)
    if origin is tuple:
        return f"list of {_type_label(typing.get_args(tp)[0])}"
    if origin in (typing.Union, UnionType):
        return _type_label(next(a for a in typing.get_args(tp) if a is not type(None)))
    if origin is Literal:
        return " / ".join(f'`"{c}"`' for c in typing.get_args(tp))
    if is_dataclass(tp):
        return "table"
    return _TYPE_NAMES[tp]


def starter_page(slug: str) -> str:
    """The commented starter page file for a new page, titled after its slug."""
    title = slug.replace("-", " ").title()
    return STARTER_PATH.read_text(encoding="utf-8").replace("{{title}}", title)


class PageRegistry:
    """The loaded pages; with ``auto_reload`` an edited file shows on the next request."""

    def __init__(self, pages_dir: Path, static_dir: Path | None, auto_reload: bool) -> None:
        self.pages_dir = Path(pages_dir)
        self.static_dir = static_dir
        self.auto_reload = auto_reload
        self._signature: tuple = ()
        self.pages: dict[str, Page] = {}
        self.errors: list[PageConfigError] = []
        self.inline_styles: tuple[str, ...] = ()
        self.reload()

    def _current_signature(self) -> tuple:
        return tuple((path.name, *_stamp(path)) for path in page_files(self.pages_dir))

    def reload(self) -> None:
        self._signature = self._current_signature()
        self.pages, self.errors = load_pages(self.pages_dir, self.static_dir)
        themes = {c.theme.css for page in self.pages.values() for _, c in page.contents()}
        self.inline_styles = tuple(sorted(themes))

    def _refresh(self) -> None:
        if self.auto_reload and self._current_signature() != self._signature:
            self.reload()

    def get(self, slug: str) -> Page | None:
        """Return the page for ``slug``, reloading edited files first in development."""
        self._refresh()
        return self.pages.get(slug)

    def errors_for(self, slug: str) -> list[PageConfigError]:
        """Errors of the file behind ``slug`` (shown instead of the page in development)."""
        self._refresh()
        return [e for e in self.errors if e.file == f"{slug}.toml"]

    def all(self) -> list[Page]:
        self._refresh()
        return list(self.pages.values())
