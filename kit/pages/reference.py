"""What ``make docs`` writes: the page-file reference, generated from the schema, and the list of
languages and ``[text]`` keys, generated from kit/texts.py and the catalogs."""

from __future__ import annotations

import typing
from dataclasses import MISSING
from dataclasses import fields
from dataclasses import is_dataclass
from types import UnionType
from typing import Any
from typing import Literal

from kit.pages.schema import Content
from kit.pages.schema import Embed
from kit.pages.schema import ExperimentConfig
from kit.pages.schema import Goal
from kit.pages.schema import Target
from kit.pages.schema import VariantConfig
from kit.pages.schema import Waitlist
from kit.pages.validation import _TYPE_NAMES
from kit.texts import TEXTS


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
    walk(Target, "target.")
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


def text_reference(languages: list[str]) -> str:
    """The languages with a catalog and every ``[text]`` key with its English (Markdown)."""
    names = ", ".join(f"`{tag}`" for tag in ["en", *languages])
    lines = [
        f"Languages the kit speaks: {names}.",
        "",
        "<details><summary>Every <code>[text]</code> key and its English</summary>",
        "",
        "| key | English |",
        "| --- | --- |",
    ]
    for key, entry in TEXTS.items():
        english = entry if isinstance(entry, str) else f"{entry[0]} / {entry[1]}"
        cell = english.replace("|", "\\|")
        lines.append(f"| `{key}` | {cell} |")
    return "\n".join([*lines, "", "</details>", ""])
