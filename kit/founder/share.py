"""Links to a read-only demand report: created and revoked by the founder, opened by anyone
who has one (a co-founder, an investor, a hiring manager).

A link is ``/proof/<public id>.<signature>``: the id is random and stored; the signature is an
HMAC of it under SECRET_KEY and is not stored, so a copy of the database opens nothing, and
changing SECRET_KEY revokes every link at once. Revoking one deletes its row.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import current_app
from sqlalchemy import delete
from sqlalchemy import select

from kit.models import ShareLink
from kit.models import db
from kit.urls import absolute_url

SIGNATURE_LENGTH = 22  # base64url characters: 132 bits


def create(page: str | None) -> ShareLink:
    """A new link to the report of ``page`` (None: the ideas compared); the caller commits."""
    link = ShareLink(public_id=secrets.token_urlsafe(16)[:22], page=page)
    db.session.add(link)
    db.session.flush()
    return link


def revoke(public_id: str) -> bool:
    """Delete the link; False when there was none. By its random id, never a row number a
    database may give again: a revoke form left open in a tab can't take a newer link. The
    caller commits."""
    gone = db.session.execute(delete(ShareLink).where(ShareLink.public_id == public_id))
    return bool(gone.rowcount)


def live(page: str | None = None, every: bool = False) -> list[ShareLink]:
    """The links of ``page`` (None: of the comparison), or ``every`` link, newest first."""
    query = select(ShareLink).order_by(ShareLink.created_at.desc(), ShareLink.id.desc())
    if not every:
        query = query.where(ShareLink.page.is_(None) if page is None else ShareLink.page == page)
    return list(db.session.scalars(query))


def key_of(link: ShareLink) -> str:
    return f"{link.public_id}.{_signature(link.public_id)}"


def url_of(link: ShareLink) -> str:
    return absolute_url("proof.show", token=key_of(link))


def find(key: str) -> ShareLink | None:
    """The link a key opens, or None (unknown, revoked, or a signature that does not match)."""
    public_id, _, signature = key.partition(".")
    if not public_id or len(public_id) > 32 or len(signature) != SIGNATURE_LENGTH:
        return None
    if not (public_id.isascii() and signature.isascii()):
        return None
    if not hmac.compare_digest(signature, _signature(public_id)):
        return None
    return db.session.scalar(select(ShareLink).where(ShareLink.public_id == public_id))


def _signature(public_id: str) -> str:
    secret = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(secret, f"proof {public_id}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:SIGNATURE_LENGTH]
