"""Where a key of a page file is written: the line a message about a key path points at.

TOML parsers give no positions for keys, so the text is walked the simple way: table headers
(``[form]``, ``[[experiment.variants]]``, counted to give ``experiment.variants[1]``) and
``key =`` lines, skipping multi-line strings. A key written inside an inline table or as a
dotted key gets the line of its table, or none.
"""

from __future__ import annotations

import re

HEADER = re.compile(r"^\s*(\[\[?)\s*([^\[\]#]+?)\s*\]\]?\s*(?:#.*)?$")
KEY = re.compile(r"""^\s*([A-Za-z0-9_-]+|"[^"]*")\s*=""")
MULTILINE = re.compile(r'"""|\'\'\'')


def line_of(text: str, path: str) -> int | None:
    """The 1-based line where ``path`` ("experiment.variants[1].weight") is written; else the
    line of the nearest table that holds it (a required key left out); else None."""
    lines = _lines(text)
    while path:
        if path in lines:
            return lines[path]
        path = _parent(path)
    return None


def _lines(text: str) -> dict[str, int]:
    """Every table and key path the text writes, with its line (the first, if repeated)."""
    found: dict[str, int] = {}
    table = ""
    arrays: dict[str, int] = {}  # array-of-tables name -> index of its latest entry
    in_string = False
    for number, line in enumerate(text.splitlines(), start=1):
        quotes = len(MULTILINE.findall(line))
        if in_string:
            in_string = quotes % 2 == 0
            continue
        header = HEADER.match(line)
        if header:
            name = _indexed(re.sub(r"\s|\"", "", header[2]), arrays)
            if header[1] == "[[":
                arrays[name] = arrays.get(name, -1) + 1
                name = f"{name}[{arrays[name]}]"
            table = name
            found.setdefault(table, number)
        elif key := KEY.match(line):
            name = key[1].strip('"')
            found.setdefault(f"{table}.{name}" if table else name, number)
        in_string = quotes % 2 == 1
    return found


def _indexed(name: str, arrays: dict[str, int]) -> str:
    """``experiment.variants.form`` -> ``experiment.variants[1].form`` inside the second
    ``[[experiment.variants]]`` (the longest array name that prefixes it)."""
    for array in sorted(arrays, key=len, reverse=True):
        if name.startswith(array + "."):
            return f"{array}[{arrays[array]}]{name[len(array) :]}"
    return name


def _parent(path: str) -> str:
    """``a.b[1].c`` -> ``a.b[1]`` -> ``a.b`` -> ``a`` -> ``""``."""
    if path.endswith("]"):
        return path[: path.rindex("[")]
    return path.rpartition(".")[0]
