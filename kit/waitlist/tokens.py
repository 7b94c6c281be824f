"""Signed links for one person: status, share, remove, unsubscribe and confirmation."""

from __future__ import annotations

from flask import current_app
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeSerializer
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from kit.models import Signup
from kit.models import db
from kit.models import is_share_code
from kit.urls import absolute_url

CONFIRM_MAX_AGE = 14 * 24 * 3600  # a confirmation link works for two weeks


# --- links and what the person sees ------------------------------------------------------


def status_url(entry: Signup) -> str:
    return absolute_url("subscriber.show", slug=entry.page, token=status_token(entry))


def share_url(entry: Signup) -> str:
    return absolute_url("landing.show", slug=entry.page, ref=entry.share_code)


def remove_url(entry: Signup) -> str:
    return absolute_url("subscriber.remove", slug=entry.page, token=status_token(entry))


# --- signed links: status page, confirmation, removal ---------------------------------------


def _serializer(purpose: str) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"waitlist-{purpose}")


def status_token(entry: Signup) -> str:
    """The private status link's token: the signup's share code, signed. Neither the e-mail
    nor the row id is in it (ids in clear told anyone who signed up how many had)."""
    return _serializer("status").dumps(entry.share_code)


def unsubscribe_url(entry: Signup) -> str:
    """The one-click unsubscribe link of the mails' List-Unsubscribe header: its own signed
    token, so it opens nothing but the unsubscribe (not the status page or the removal)."""
    token = _serializer("unsubscribe").dumps(entry.share_code)
    return absolute_url("subscriber.unsubscribe", slug=entry.page, token=token)


def signup_from_status_token(slug: str, token: str) -> Signup | None:
    return _signup_from(_serializer("status"), slug, token)


def signup_from_unsubscribe_token(slug: str, token: str) -> Signup | None:
    return _signup_from(_serializer("unsubscribe"), slug, token)


def _signup_from(serializer: URLSafeSerializer, slug: str, token: str) -> Signup | None:
    """The live signup of ``slug`` a signed link names, or None."""
    try:
        named = serializer.loads(token)
    except BadSignature:
        return None
    return _live_signup(slug, named)


def _live_signup(slug: str, named: object) -> Signup | None:
    """The live signup of ``slug`` a signed token names: by its share code, or by its row id
    in links mailed before tokens carried share codes (they keep working)."""
    if isinstance(named, int) and not isinstance(named, bool):
        entry = db.session.get(Signup, named)
    elif is_share_code(named):
        entry = db.session.scalar(
            select(Signup).where(Signup.page == slug, Signup.share_code == named)
        )
    else:
        return None
    if entry is None or entry.page != slug or entry.deleted_at is not None:
        return None
    return entry


def confirm_token(entry: Signup) -> str:
    timed = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="waitlist-confirm")
    return timed.dumps(entry.share_code)


def signup_from_confirm_token(slug: str, token: str) -> tuple[Signup | None, str]:
    """The signup a confirmation link is for, or None and why ("expired", "invalid")."""
    timed = URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="waitlist-confirm")
    try:
        named = timed.loads(token, max_age=CONFIRM_MAX_AGE)
    except SignatureExpired:
        return None, "expired"
    except BadSignature:
        return None, "invalid"
    entry = _live_signup(slug, named)
    return (entry, "") if entry is not None else (None, "invalid")
