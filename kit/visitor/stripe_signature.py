"""Stripe's webhook signature, checked as Stripe documents it (docs.stripe.com/webhooks):
the ``Stripe-Signature`` header is ``t=<unix time>,v1=<hex>[,v1=<hex>...]``, where each v1 is
HMAC-SHA256 of ``"<t>.<raw body>"`` keyed with the endpoint's signing secret (``whsec_...``).

A call is genuine when one v1 matches (compared in constant time) and ``t`` is within
``TOLERANCE`` seconds of now: a captured call replayed later is stale. No ``stripe`` package
is needed for this; the tests check it against the ``stripe`` package's own verifier.
"""

from __future__ import annotations

import hashlib
import hmac

TOLERANCE = 300  # seconds, Stripe's default


class BadSignature(ValueError):
    """Not a genuine, fresh call from Stripe; the message says what was wrong (for the log)."""


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The header Stripe would send with this body at this time (tests and local senders)."""
    return f"t={timestamp},v1={_digest(payload, secret, timestamp)}"


def verify(
    payload: bytes, header: str, secret: str, now: float, tolerance: int = TOLERANCE
) -> None:
    """Raise ``BadSignature`` unless ``header`` signs ``payload`` with ``secret`` recently."""
    timestamp: int | None = None
    signatures = []
    for item in header.split(","):
        key, _, value = item.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise BadSignature("the timestamp is not a number") from None
        elif key == "v1":
            signatures.append(value)
    if timestamp is None or not signatures:
        raise BadSignature("no t= timestamp or no v1= signature in Stripe-Signature")
    if abs(now - timestamp) > tolerance:
        raise BadSignature(f"the timestamp is {int(now - timestamp)} s away from now (stale)")
    expected = _digest(payload, secret, timestamp).encode()
    # As bytes: compare_digest refuses str with non-ASCII characters (a forged header's).
    given = [signature.encode(errors="replace") for signature in signatures]
    if not any(hmac.compare_digest(expected, signature) for signature in given):
        raise BadSignature("no v1 signature matches this body and the signing secret")


def _digest(payload: bytes, secret: str, timestamp: int) -> str:
    signed = str(timestamp).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
