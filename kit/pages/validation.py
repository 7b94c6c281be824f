"""Page files -> pages: every problem of every file in one pass, each with its key path
and line."""

from __future__ import annotations

import difflib
import math
import tomllib
import typing
from dataclasses import MISSING
from dataclasses import dataclass
from dataclasses import fields
from dataclasses import is_dataclass
from dataclasses import replace
from pathlib import Path
from types import UnionType
from typing import Any
from typing import Literal

from kit.pages.fields import CONTROL_RE
from kit.pages.fields import SLUG_RE
from kit.pages.schema import MAX_BAR
from kit.pages.schema import MIN_BAR
from kit.pages.schema import Content
from kit.pages.schema import Embed
from kit.pages.schema import Experiment
from kit.pages.schema import ExperimentConfig
from kit.pages.schema import Form as FormConfig
from kit.pages.schema import Goal
from kit.pages.schema import Page
from kit.pages.schema import Target
from kit.pages.schema import Variant
from kit.pages.schema import VariantConfig
from kit.pages.schema import Waitlist
from kit.pages.schema import tier_key
from kit.pages.text_table import parse_text
from kit.pages.toml_lines import line_of

RESERVED_SLUGS = {
    "admin",
    "api",
    "static",
    "go",
    "embed",
    "checkout",
    "proof",
    "webhooks",
    "healthz",
    "favicon.ico",
    "robots.txt",
}


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
    """ "unknown key (did you mean 'headline'?; known keys: ...)"."""
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


_PAGE_KEYS = frozenset({"embed", "experiment", "goals", "target", "text", "waitlist"})
_VARIANT_KEYS = frozenset(f.name for f in fields(VariantConfig))


def parse_page(slug: str, data: dict, file: str = "") -> tuple[Page | None, list[PageConfigError]]:
    """Validate one page's parsed TOML and return the page, or every error found in it."""
    errors = _Errors()
    file = file or f"{slug}.toml"
    if not SLUG_RE.fullmatch(slug) or slug in RESERVED_SLUGS:
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
    # The question's answers are checked even when another key of the page has a problem, so
    # one run of kit check lists them too (the form alone, its own errors already counted).
    form = content.form if content else _convert(FormConfig, base.get("form", {}), "form",
                                                 _Errors(), False)  # fmt: skip
    if isinstance(form, FormConfig):
        _check_question(form, errors)
    embed = _convert(Embed, data.get("embed", {}), "embed", errors, False)
    target = _convert(Target, data.get("target", {}), "target", errors, False)
    if isinstance(target, Target):
        for name in ("signup_rate", "paid_rate"):
            rate = getattr(target, name)
            if rate != 0 and not MIN_BAR <= rate <= MAX_BAR:  # NaN and infinity fail too
                errors.add(f"target.{name}", f"expected a share from {MIN_BAR} to {MAX_BAR}, "
                           f"like 0.10 for 10 % (0: no bar), got {rate!r}")  # fmt: skip
    text, text_errors = parse_text(data.get("text", {}))
    for path, message in text_errors:
        errors.add(path, message)
    experiment = None
    if "experiment" in data:
        # Variants are merged over a valid base only, so base errors are reported once.
        experiment = _parse_experiment(data["experiment"], base if content else None, errors)
    if isinstance(goals, tuple):
        # Checked whatever else is wrong, so one run of `kit check` reports every problem.
        _check_references(data, tuple(goal for goal in goals if isinstance(goal, Goal)), errors)
    if errors:
        return None, [PageConfigError(file, p, m) for p, m in errors]
    return Page(slug, content, experiment, goals, waitlist, embed, target, text), []


MAX_OPTIONS, OPTION_LENGTH = 12, 100


def _check_question(form: FormConfig, errors: _Errors, prefix: str = "") -> None:
    """A choice question has 2 to 12 distinct answers that fit the answer column; other kinds
    have none."""
    options = form.question_options
    if form.question_kind == "choice":
        if not 2 <= len(options) <= MAX_OPTIONS:
            wanted = f"a choice question needs 2 to {MAX_OPTIONS} answers, got {len(options)}"
            errors.add(f"{prefix}form.question_options", wanted)
        if len(set(options)) != len(options):
            errors.add(f"{prefix}form.question_options", "each answer once: two are the same")
        for i, option in enumerate(options):
            if not 0 < len(option.strip()) <= OPTION_LENGTH:
                errors.add(f"{prefix}form.question_options[{i}]",
                           f"expected an answer of 1 to {OPTION_LENGTH} characters")  # fmt: skip
            elif option != option.strip():  # the pick sent back is trimmed: it would never match
                wanted = f"an answer without spaces before or after it, got {option!r}"
                errors.add(f"{prefix}form.question_options[{i}]", wanted)
    elif options:
        errors.add(f"{prefix}form.question_options",
                   'only a question_kind = "choice" has answers to pick')  # fmt: skip
    if form.question_unit and form.question_kind != "number":
        errors.add(f"{prefix}form.question_unit", 'only a question_kind = "number" has a unit')


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
        if "language" in override:
            errors.add(f"{path}.language", "a page has one language: set it at the top only")
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
            if content and "form" in override:
                _check_question(content.form, errors, f"{path}.")
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
