"""CSV files a founder opens in a spreadsheet, safe against formula injection.

A visitor can type ``=HYPERLINK(...)`` as their name; a spreadsheet would run it. Cells that
start with a formula character get a leading apostrophe (OWASP's recommendation), which
spreadsheets show as plain text.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from itertools import chain

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    """The cell text, with a leading ``'`` when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    if isinstance(value, int | float):
        return text  # numbers (negative ones too) stay numbers
    return f"'{text}" if text.startswith(FORMULA_START) else text


def csv_lines(header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    """CSV text one line at a time, so a long export streams instead of filling memory."""
    out = io.StringIO()
    writer = csv.writer(out)
    for row in chain([header], rows):
        writer.writerow([neutralise(cell) for cell in row])
        yield out.getvalue()
        out.seek(0)
        out.truncate()
