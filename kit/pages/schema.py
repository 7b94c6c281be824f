"""Landing pages described by TOML files in ``pages/``.

The dataclasses below *are* the schema: the validator walks their type hints, so a field
added here is validated, documented (``schema_reference``) and available to templates at
once. Loading returns every error of every file in one go, each naming the file and key path.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Literal

from kit import money
from kit.pages.fields import _absolute_url
from kit.pages.fields import _charge
from kit.pages.fields import _checkout
from kit.pages.fields import _colour
from kit.pages.fields import _doc
from kit.pages.fields import _image
from kit.pages.fields import _language
from kit.pages.fields import _link
from kit.pages.fields import _name
from kit.pages.fields import _one_line
from kit.pages.fields import _origin
from kit.pages.fields import _tier_name
from kit.pages.fields import _unit
from kit.pages.fields import _webhook_url
from kit.texts import N_

TAGLINE_MARKS = (" — ", " – ", " | ", " - ", ": ")


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
    checkout_label: str = field(default=N_("Pre-order"), metadata=_doc("Its button's text."))
    checkout_amount: str = field(
        default="",
        metadata=_doc(
            'What the Payment Link charges, like "49 USD" or "€9" (read from price when empty). '
            "A payment of another amount or currency is kept apart as unmatched, never counted.",
            _charge,
        ),
    )

    @property
    def charge(self) -> tuple[int, str] | None:
        """What a payment for this tier must be (minor units, currency), if the file says."""
        return money.price(self.checkout_amount or self.price)

    @property
    def key(self) -> str:
        """The tier's name in URLs and Stripe references: "Pro team" -> "pro-team"."""
        return tier_key(self.name)


def tier_key(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "tier"


@dataclass(frozen=True)
class Pricing:
    """The optional pricing teaser."""

    title: str = field(default=N_("Pricing"), metadata=_doc("Section heading."))
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
        metadata=_doc("Label of one optional question; empty: not asked."),
    )
    question_kind: Literal["text", "number", "choice"] = field(
        default="text",
        metadata=_doc(
            'What the answer is: "text" (a few lines), "number" (a number box, with '
            '`question_unit` after it) or "choice" (one of `question_options`).'
        ),
    )
    question_unit: str = field(
        default="", metadata=_doc('Shown after a number box, e.g. "$ per month".', _unit)
    )
    question_options: tuple[str, ...] = field(
        default=(),
        metadata=_doc(
            "The answers of a choice question, 2 to 12 (100 characters each).", _one_line
        ),
    )
    consent: str = field(
        default="",
        metadata=_doc("Consent line the visitor must tick; its text is stored."),
    )
    email_label: str = field(
        default=N_("Email address"), metadata=_doc("Label of the e-mail field.")
    )


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
    cta: str = field(default=N_("Join the waitlist"), metadata=_doc("Signup button text."))
    thanks: str = field(
        default=N_("Thanks, you're on the list! We'll write when it's ready."),
        metadata=_doc("Message on the thank-you page."),
    )
    features_title: str = field(
        default=N_("Why you'll love it"), metadata=_doc("Heading above the features.")
    )
    features: tuple[Feature, ...] = field(default=(), metadata=_doc("Benefits list."))
    testimonials_title: str = field(
        default=N_("What people say"), metadata=_doc("Heading above the testimonials.")
    )
    faq_title: str = field(default=N_("Questions"), metadata=_doc("Heading above the FAQ."))
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
    """ "Quillnote — notes that write themselves" -> "Quillnote"."""
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
        default=N_(
            "Thanks for your interest! This isn't available yet — join the waitlist "
            "and you'll be the first to know."
        ),
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
        default=N_("I just joined the waitlist — you can too:"),
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


MIN_BAR, MAX_BAR = 0.0001, 0.9999  # the bars a page file may set: 0.01 % to 99.99 %


@dataclass(frozen=True)
class Target:
    """The bar this idea must clear to be worth building: on a page without a running test
    (and after a test, for its winner) the dashboard says go, no-go or keep going (with how
    many more visitors), from a test that may be read every day."""

    signup_rate: float = field(
        default=0.0,
        metadata=_doc("Share of visitors who must sign up, e.g. 0.10 for 10 %; 0: no bar."),
    )
    paid_rate: float = field(
        default=0.0,
        metadata=_doc("Share of visitors who must pay a pre-order, e.g. 0.02; 0: no bar."),
    )

    @property
    def bars(self) -> list[tuple[str, float]]:
        """The bars set, as (what a converted visitor did, rate)."""
        named = (("sign up", self.signup_rate), ("pay", self.paid_rate))
        return [(metric, rate) for metric, rate in named if rate > 0]


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

    def changed(self, width: int = 60) -> list[tuple[str, str]]:
        """Each key it overrides with what a visitor sees there, cut to ``width`` characters:
        [("headline", "Dinner in ten minutes")]."""
        shown = []
        for path in self.changes:
            value: object = self.content
            for key in path.split("."):
                value = getattr(value, key, None)
            if isinstance(value, tuple):
                text = f"{len(value)} item{'s' if len(value) != 1 else ''}"
            else:
                text = " ".join(str(value if value is not None else "").split())
            shown.append((path, text if len(text) <= width else text[: width - 1] + "…"))
        return shown


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
    target: Target = Target()
    # The [text] table: the founder's own sentence by key (kit/texts.py), one or (one, other).
    text: Mapping[str, str | tuple[str, str]] = field(default_factory=dict, hash=False)

    def goal(self, name: str) -> Goal | None:
        return next((g for g in self.goals if g.name == name), None)

    @property
    def experiment_key(self) -> str:
        """The key of the experiment in the page file ("" when it runs none): new visitors,
        signups and payments are counted under it."""
        return self.experiment.key if self.experiment else ""

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
