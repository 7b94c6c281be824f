"""Referrals: who brought whom, share and status links, and what the person sees.

The place in line itself is kept by kit/waitlist/places.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sqlalchemy import select

from kit.language import translated
from kit.models import Signup
from kit.models import db
from kit.models import is_share_code
from kit.pages.schema import Page
from kit.pages.schema import Reward
from kit.waitlist import places
from kit.waitlist.tokens import share_url
from kit.waitlist.tokens import status_token
from kit.waitlist.tokens import status_url


def find_by_share_code(slug: str, code: object) -> Signup | None:
    """The live signup of the page with this share code (a referrer, or the browser's own)."""
    if not is_share_code(code):
        return None
    return db.session.scalar(
        select(Signup).where(
            Signup.page == slug, Signup.share_code == code, Signup.deleted_at.is_(None)
        )
    )


# Providers whose mailboxes ignore dots in the name: a.da@ and ada@ are one mailbox.
DOTLESS = {"gmail.com": "gmail.com", "googlemail.com": "gmail.com"}


def mailbox(email: str) -> str:
    """The mailbox an address delivers to: lower case, without a +tag, and for Gmail without
    dots ("Ada.L+ads@googlemail.com" -> "adal@gmail.com")."""
    local, _, domain = email.lower().rpartition("@")
    local = local.partition("+")[0]
    if domain in DOTLESS:
        local, domain = local.replace(".", ""), DOTLESS[domain]
    return f"{local}@{domain}"


def earns_credit(entry: Signup) -> bool:
    """A friend earns their referrer a credit only with a mailbox of their own: not the
    referrer's, and not that of another friend on the list. So a referrer's credits are the
    mailboxes of their friends on the list: asked when a friend joins (a credit more) and when
    one leaves (a credit less). The referrer's row is locked first, so two friends joining or
    leaving at once are judged one after the other."""
    referrer = entry.referred_by_id
    db.session.execute(select(Signup.id).where(Signup.id == referrer).with_for_update())
    others = db.session.scalars(
        select(Signup.email).where(
            (Signup.id == referrer)
            | (
                (Signup.referred_by_id == referrer)
                & Signup.line_key.is_not(None)
                & (Signup.id != entry.id)
            )
        )
    )
    mine = mailbox(entry.email)
    return all(mailbox(email) != mine for email in others)


@dataclass(frozen=True)
class Leader:
    share_code: str
    label: str  # "Ada L." from the name they gave, else "a…e@example.com"
    referrals: int


def mask(email: str) -> str:
    """ada@example.com -> a**@example.com: enough for the founder to recognise, no more."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}{'*' * min(len(local) - 1, 5)}@{domain}" if domain else "(removed)"


def label(name: str | None, email: str) -> str:
    """Who someone is on the leaderboard: their first name and initial when they gave a name,
    else the first and last letters of their address's name and its domain: rows differ where
    "s*****@example.com" made them all alike, and no full address is shown."""
    words = (name or "").split()
    if words:
        return f"{words[0]} {words[-1][0]}." if len(words) > 1 else words[0]
    local, _, domain = email.partition("@")
    if not domain:
        return "(removed)"
    return f"{local[0]}…{local[-1]}@{domain}" if len(local) > 2 else f"{local[0]}…@{domain}"


def leaderboard(slug: str, limit: int = 10) -> list[Leader]:
    rows = db.session.execute(
        select(Signup.share_code, Signup.name, Signup.email, Signup.referrals)
        .where(Signup.page == slug, Signup.referrals > 0, Signup.deleted_at.is_(None))
        .order_by(Signup.referrals.desc(), Signup.id)
        .limit(limit)
    )
    return [Leader(code, label(name, email), count) for code, name, email, count in rows]


def referral_share(page: Page) -> tuple[int, int]:
    """(signups that came through a referral, all signups) of a page: the viral share."""
    kept = places.counts(page)
    return kept.referred, kept.signups


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
    text = translated(page.waitlist.share_text)
    message = quote(f"{text} {share}")
    rewards = [
        {"reward": r.reward, "referrals": r.referrals, "reached": entry.referrals >= r.referrals}
        for r in page.waitlist.rewards
    ]
    quoted_share = quote(share, safe="")
    place = places.position(page, entry)
    ahead = next_reward(page.waitlist.rewards, entry.referrals)
    return {
        "entry": entry,
        "place": place,
        "list_size": places.size(page),
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
        "next_reward": ahead,
        "projected_place": _projected(place, ahead, page.waitlist.referral_bump),
        "bump": page.waitlist.referral_bump,
    }


def _projected(place: int | None, ahead: Progress | None, bump: int) -> int | None:
    """About where the next reward's friends would put the person, if nobody else moved: a
    friend makes their number ``bump`` smaller, and the person who joined with that number
    earlier stays ahead, so each friend is worth ``bump - 1`` places past such people."""
    if place is None or ahead is None:
        return None
    return max(1, place - max(bump - 1, 0) * ahead.to_go)
