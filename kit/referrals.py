"""Referrals: who brought whom, share and status links, and what the person sees.

The place in line itself is kept by kit/line.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import current_app
from itsdangerous import BadSignature
from itsdangerous import SignatureExpired
from itsdangerous import URLSafeSerializer
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from . import line
from .links import absolute_url
from .models import Signup
from .models import db
from .models import is_share_code
from .pages import Page
from .pages import Reward

CONFIRM_MAX_AGE = 14 * 24 * 3600  # a confirmation link works for two weeks


def find_by_share_code(slug: str, code: object) -> Signup | None:
    """The live signup of the page with this share code (a referrer, or the browser's own)."""
    if not is_share_code(code):
        return None
    return db.session.scalar(
        select(Signup).where(
            Signup.page == slug, Signup.share_code == code, Signup.deleted_at.is_(None)
        )
    )


@dataclass(frozen=True)
class Leader:
    share_code: str
    masked_email: str
    referrals: int


def mask(email: str) -> str:
    """ada@example.com -> a**@example.com: enough for the founder to recognise, no more."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'*' * min(len(local) - 1, 5)}@{domain}" if domain else "(removed)"


def leaderboard(slug: str, limit: int = 10) -> list[Leader]:
    rows = db.session.execute(
        select(Signup.share_code, Signup.email, Signup.referrals)
        .where(Signup.page == slug, Signup.referrals > 0, Signup.deleted_at.is_(None))
        .order_by(Signup.referrals.desc(), Signup.id)
        .limit(limit)
    )
    return [Leader(code, mask(email), count) for code, email, count in rows]


def referral_share(page: Page) -> tuple[int, int]:
    """(signups that came through a referral, all signups) of a page: the viral share."""
    kept = line.counts(page)
    return kept.referred, kept.signups


# --- links and what the person sees ------------------------------------------------------


def status_url(entry: Signup) -> str:
    return absolute_url("status.show", slug=entry.page, token=status_token(entry))


def share_url(entry: Signup) -> str:
    return absolute_url("waitlist.show", slug=entry.page, ref=entry.share_code)


def remove_url(entry: Signup) -> str:
    return absolute_url("status.remove", slug=entry.page, token=status_token(entry))


@dataclass(frozen=True)
class Progress:
    """How far someone is towards their next reward: ``friends`` of ``needed``."""

    reward: str
    friends: int
    needed: int

    @property
    def to_go(self) -> int:
        return self.needed - self.friends


def next_reward(rewards: tuple[Reward, ...], friends: int) -> Progress | None:
    """The smallest reward not reached yet and the progress to it; None when all are reached
    (or the page has none)."""
    ahead = [tier for tier in rewards if tier.referrals > friends]
    if not ahead:
        return None
    tier = min(ahead, key=lambda tier: tier.referrals)
    return Progress(tier.reward, friends, tier.referrals)


def status_context(page: Page, entry: Signup) -> dict[str, Any]:
    """What the status page and the thank-you page show the person about their place."""
    share = share_url(entry)
    text = page.waitlist.share_text
    message = quote(f"{text} {share}")
    rewards = [
        {"reward": r.reward, "referrals": r.referrals, "reached": entry.referrals >= r.referrals}
        for r in page.waitlist.rewards
    ]
    quoted_share = quote(share, safe="")
    return {
        "entry": entry,
        "place": line.position(page, entry),
        "list_size": line.size(page),
        "share_url": share,
        "status_url": status_url(entry),
        "token": status_token(entry),
        "share_text": text,
        "share_links": {
            "WhatsApp": f"https://wa.me/?text={message}",
            "Telegram": f"https://t.me/share/url?url={quoted_share}&text={quote(text)}",
            "X (Twitter)": f"https://twitter.com/intent/tweet?text={message}",
            "LinkedIn": f"https://www.linkedin.com/sharing/share-offsite/?url={quoted_share}",
            "E-mail": f"mailto:?subject={quote(page.content.name)}&body={message}",
        },
        "rewards": rewards,
        "next_reward": next_reward(page.waitlist.rewards, entry.referrals),
        "bump": page.waitlist.referral_bump,
    }


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
    return absolute_url("status.unsubscribe", slug=entry.page, token=token)


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
