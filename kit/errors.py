"""Every error page in one place: a plain title and sentence for each status a visitor can get.

A page never shows a stack trace or a library's own wording ("The CSRF session token is
missing."): the title says what happened in a visitor's words, the sentence what to do.
"""

from __future__ import annotations

from flask import render_template

TITLES = {
    400: "We couldn't read that",
    403: "Not allowed",
    404: "Page not found",
    405: "Not allowed here",
    410: "Gone",
    413: "That was too much at once",
    415: "We couldn't read that",
    422: "We couldn't read that",
    429: "Too many attempts",
    500: "Something went wrong",
    503: "Back in a moment",
}
MESSAGES = {
    400: "Something in that request could not be read. Please go back and try again.",
    404: "There is nothing at this address. Check the link, or start from the home page.",
    405: "This address doesn't take that kind of request. Please use the page's own links.",
    500: "Sorry, that didn't work. Nothing you sent was saved; please try again in a moment.",
    503: "We couldn't answer for a moment. Please try again in a few seconds.",
}
FORM_EXPIRED = "This form has expired — please press the button again."


def error_page(status: int, message: str | None = None) -> tuple[str, int]:
    """The error page for ``status``, with ``message`` (else the status's own sentence)."""
    title = TITLES.get(status, TITLES[500] if status >= 500 else TITLES[400])
    text = message or MESSAGES.get(status) or MESSAGES[500 if status >= 500 else 400]
    return render_template("error.html", status=status, title=title, message=text), status
