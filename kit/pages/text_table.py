"""A page file's ``[text]`` table: the founder's own wording for any sentence of kit/texts.py,
by key. Checked like every key: an unknown key gets "did you mean", a sentence may use only the
``{placeholders}`` (and the ``[link]``) the English one has, and holds no line break or
control character (a mail subject is a header)."""

from __future__ import annotations

import difflib
import re
from typing import Any

from kit.pages.fields import CONTROL_RE
from kit.texts import TEXTS
from kit.texts import Text

PLACEHOLDER_RE = re.compile(r"\{(\w+)\}")
LINK_RE = re.compile(r"\[[^\[\]]+\]")
MAX_LENGTH = 500


def _flatten(table: dict, prefix: str = "") -> dict[str, Any]:
    """``thanks.heading = "…"`` and ``[text.thanks] heading = "…"`` both name "thanks.heading"."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _problem(sentence: str, english: str) -> str | None:
    """Why the founder's ``sentence`` can't stand for the English one, or None."""
    if not sentence.strip():
        return "expected a sentence, got an empty one"
    if len(sentence) > MAX_LENGTH:
        return f"expected at most {MAX_LENGTH} characters, got {len(sentence)}"
    if CONTROL_RE.search(sentence) or "\n" in sentence or "\r" in sentence:
        return "expected one line without control characters"
    allowed = set(PLACEHOLDER_RE.findall(english))
    unknown = sorted(set(PLACEHOLDER_RE.findall(sentence)) - allowed)
    if unknown:
        offered = ", ".join(f"{{{name}}}" for name in sorted(allowed)) or "none"
        return f"unknown placeholder {{{unknown[0]}}} (this sentence has: {offered})"
    links = len(LINK_RE.findall(sentence))
    if links > (1 if LINK_RE.search(english) else 0):
        return "square brackets mark the one link of a sentence, and this one has " + (
            "only one" if LINK_RE.search(english) else "none"
        )
    return None


def _sentence(value: Any, entry: Text) -> tuple[str | tuple[str, str] | None, str | None]:
    """The checked override of one key, or the reason it is refused."""
    english = entry if isinstance(entry, str) else entry[1]  # a pair's "other" has it all
    if isinstance(entry, tuple) and isinstance(value, list):
        if len(value) != 2 or not all(isinstance(v, str) for v in value):
            return None, 'expected a sentence, or ["one …", "other …"] for the two number forms'
        problems = [p for p in (_problem(value[0], english), _problem(value[1], english)) if p]
        return (None, problems[0]) if problems else ((value[0], value[1]), None)
    if not isinstance(value, str):
        return None, f"expected text, got {type(value).__name__}"
    problem = _problem(value, english)
    return (None, problem) if problem else (value, None)


def parse_text(raw: Any) -> tuple[dict[str, str | tuple[str, str]], list[tuple[str, str]]]:
    """The ``[text]`` overrides by key, and the errors as (path, message)."""
    if not isinstance(raw, dict):
        return {}, [("text", "expected a table of sentences by key, like [text]")]
    found: dict[str, str | tuple[str, str]] = {}
    errors = []
    for key, value in _flatten(raw).items():
        if key not in TEXTS:
            close = difflib.get_close_matches(key, TEXTS, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}? " if close else ""
            errors.append((f"text.{key}", f"unknown key ({hint}the README lists every key)"))
            continue
        sentence, problem = _sentence(value, TEXTS[key])
        if problem:
            errors.append((f"text.{key}", problem))
        elif sentence is not None:
            found[key] = sentence
    return found, errors
