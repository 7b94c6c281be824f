"""gunicorn's access log, without the private tokens of status, confirm, remove and
unsubscribe links, nor the keys of shared reports.

Whoever reads the logs (the PaaS, a log drain, a colleague) must not be able to open or
delete a person's signup, or read a report its founder shared with a few people. The token
is cut from every logged value: the request line, the path, the Referer (a page's own files
are fetched with the status page as Referer) and response headers such as a redirect's
Location. ``gunicorn.conf.py`` selects this logger.
"""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

# The path segment before every route's <token> (tests/test_security.py reads the URL map to
# check that no token route is missing here).
TOKEN_ROUTES = ("status", "confirm", "remove", "unsubscribe", "proof")


def _as_sent(text: str) -> str:
    """A pattern for ``text`` as a client may send it: any character percent-encoded (the
    app decodes ``/demo/%73tatus%2F<token>`` to the status route, the log keeps it raw)."""
    return "".join(f"(?:{re.escape(char)}|%{ord(char):02x})" for char in text)


SLASH = _as_sent("/")
TOKEN_IN_PATH = re.compile(
    rf"{SLASH}({'|'.join(_as_sent(route) for route in TOKEN_ROUTES)}){SLASH}"
    rf"(?:(?!{SLASH})[^/?#\s\"])+",
    re.IGNORECASE,
)


SESSION_IN_QUERY = re.compile(r"([?&]session_id=)[^&\s\"]+", re.IGNORECASE)


def redact(text: str) -> str:
    """``/demo/status/<token>/data.json`` -> ``/demo/status/[token]/data.json``, and a Stripe
    Checkout Session id in a query (it opens the buyer's address) -> ``session_id=[id]``."""
    return SESSION_IN_QUERY.sub(r"\1[id]", TOKEN_IN_PATH.sub(r"/\1/[token]", text))


class RedactingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict, request_time: Any) -> dict[str, Any]:
        atoms = super().atoms(resp, req, environ, request_time)
        return {key: redact(v) if isinstance(v, str) else v for key, v in atoms.items()}
