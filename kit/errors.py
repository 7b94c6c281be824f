"""Every error page in one place: a plain title and sentence for each status a visitor can get.

A page never shows a stack trace or a library's own wording ("The CSRF session token is
missing."): the title says what happened in a visitor's words, the sentence what to do.
"""

from __future__ import annotations

from flask import render_template

from kit.language import current_page
from kit.language import text

TITLED = (400, 403, 404, 405, 410, 413, 429, 500, 503)  # "error.<status>" in kit/texts.py
SAID = (400, 404, 405, 500, 503)  # "error.<status>_text"
SAME_AS = {415: 400, 422: 400}


def error_page(status: int, message: str | None = None) -> tuple[str, int]:
    """The error page for ``status``, with ``message`` (else the status's own sentence), in
    the language of the page it is under (English elsewhere)."""
    status_of = SAME_AS.get(status, status)
    titled = status_of if status_of in TITLED else 500 if status >= 500 else 400
    said = status_of if status_of in SAID else 500 if status >= 500 else 400
    title = text(f"error.{titled}")
    message = message or text(f"error.{said}_text")
    page = current_page()  # under a page: its language, its name and a way back to it
    html = render_template("error.html", status=status, title=title, message=message,
                           page=page, content=page.content if page else None)  # fmt: skip
    return html, status
