"""What goes out when a signup is created, confirmed or removed: mail, webhooks, list sync.

Everything is queued in the outbox inside the caller's transaction (kit/delivery/outbox.py),
so a signup never waits for, or fails because of, a mail server or a webhook receiver.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import datetime
from datetime import timedelta
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

from flask import current_app
from flask import request
from sqlalchemy import select

from kit.delivery import mail
from kit.delivery import webhooks
from kit.delivery.outbox import enqueue
from kit.extensions import registry
from kit.language import in_language
from kit.language import text
from kit.models import Exposure
from kit.models import Outbox
from kit.models import Signup
from kit.models import aware
from kit.models import db
from kit.models import utcnow
from kit.pages.schema import Page
from kit.urls import absolute_url
from kit.urls import image_url
from kit.waitlist.referrals import next_reward
from kit.waitlist.referrals import status_context
from kit.waitlist.tokens import confirm_token
from kit.waitlist.tokens import remove_url
from kit.waitlist.tokens import share_url
from kit.waitlist.tokens import status_url
from kit.waitlist.tokens import unsubscribe_url


def event(kind: str, entry: Signup, email: str | None = None) -> dict[str, Any]:
    """The JSON event receivers get: the signup's fields, page, variant, UTM and referral."""
    exposure = db.session.get(Exposure, entry.exposure_id) if entry.exposure_id else None
    referrer = db.session.get(Signup, entry.referred_by_id) if entry.referred_by_id else None
    source = {
        name: getattr(exposure, name) if exposure else None
        for name in ("utm_source", "utm_medium", "utm_campaign", "utm_content", "utm_term")
    }
    return {
        "id": str(uuid.uuid4()),
        "type": kind,
        "created_at": utcnow().isoformat(),
        "page": entry.page,
        "data": {
            "signup_id": entry.id,
            "email": email if email is not None else entry.email,
            "name": entry.name,
            "answer": entry.answer,
            "signed_up_at": entry.created_at.isoformat() if entry.created_at else None,
            "confirmed": entry.confirmed_at is not None,
            "experiment": entry.experiment,
            "variant": entry.variant,
            **source,
            "referrer_host": exposure.referrer_host if exposure else None,
            "device": exposure.device if exposure else None,
            "share_code": entry.share_code,
            "referred_by": referrer.share_code if referrer else None,
        },
    }


def queue_webhooks(page: Page, kind: str, entry: Signup, email: str | None = None) -> None:
    targets = webhooks.targets(page.waitlist.webhooks, current_app.config)
    if targets:  # no receiver, no event to build
        payload = event(kind, entry, email)
        for url, fmt in targets:
            enqueue("webhook", kind, url, {"format": fmt, "event": payload})


def queue_list_sync(action: str, entry: Signup, email: str) -> None:
    if current_app.config.get("BUTTONDOWN_API_KEY"):
        enqueue("list", f"list.{action}", email, {"action": action, "tag": entry.page})


def queue_mail(template: str, subject: str, page: Page, entry: Signup, **context: Any) -> bool:
    """Queue one e-mail to the signup's address; False when no mail transport is set up or
    the address unsubscribed (a status link it asks for goes out all the same, not by here)."""
    if not mail.configured(current_app.config) or entry.unsubscribed_at is not None:
        return False
    enqueue("mail", template, entry.email, _message(template, subject, page, entry, **context))
    return True


FIRST_NAME_RE = re.compile(r"[^\W\d_][^\W\d_'’.-]{0,19}")


def first_name(name: str | None) -> str:
    """The name a mail greets with: the first word of the name given, when it is a name (up
    to 20 letters). The address is not proven the signer's: "Win $500 at https://…" typed as
    a name must not reach someone else's inbox in the product's voice."""
    word = (name or "").split()[0] if (name or "").split() else ""
    return word if FIRST_NAME_RE.fullmatch(word) else ""


def _message(template: str, subject: str, page: Page, entry: Signup, **context: Any) -> dict:
    unsubscribe = unsubscribe_url(entry)
    content = page.content
    with in_language(page):
        return mail.render(
            template,
            to=entry.email,
            subject=subject,
            unsubscribe=unsubscribe,
            sender=content.name,
            page=page,
            content=content,
            entry=entry,
            greeting_name=first_name(entry.name),
            home_url=absolute_url("landing.show", slug=page.slug),
            logo_url=image_url(content.logo, external=True) if content.logo else None,
            status_url=status_url(entry),
            share_url=share_url(entry),
            remove_url=remove_url(entry),
            unsubscribe_url=unsubscribe,
            **context,
        )


SUBJECTS = {"confirm": "mail.confirm_subject", "welcome": "mail.welcome_subject",
            "status_link": "mail.status_subject"}  # fmt: skip


def subject_of(template: str, page: Page) -> str:
    """The subject of each mail a person on the list gets, in the page's language."""
    with in_language(page):
        return text(SUBJECTS[template], name=page.content.name)


PREVIEWS = ("confirm", "welcome", "status_link")


def preview(page: Page, template: str) -> dict:
    """One of ``PREVIEWS`` as Ada, #42 of 120 with one friend, would get it: for the founder
    to see (no row is read or written; its links lead to the page)."""
    content, home = page.content, absolute_url("landing.show", slug=page.slug)
    sample = f"{home}#preview"
    ahead = next_reward(page.waitlist.rewards, 1)
    share = f"{home}?ref=sample"
    with in_language(page):
        return mail.render(
            template, to="ada@example.com", subject=subject_of(template, page),
            unsubscribe=sample, sender=content.name, page=page, content=content,
            entry=SimpleNamespace(name="Ada", email="ada@example.com", referrals=1),
            greeting_name="Ada", home_url=home,
            logo_url=image_url(content.logo, external=True) if content.logo else None,
            status_url=sample, share_url=share, remove_url=sample, unsubscribe_url=sample,
            confirm_url=sample, place=42, list_size=120, next_reward=ahead,
            bump=page.waitlist.referral_bump,
            share_mail=f"mailto:?subject={quote(content.name)}&body={quote(share)}",
        )  # fmt: skip


def _due(last_sent: datetime | None) -> bool:
    """At most one mail of a kind per address per CONFIRM_RESEND_MINUTES, whoever asks."""
    wait = timedelta(minutes=current_app.config["CONFIRM_RESEND_MINUTES"])
    return last_sent is None or utcnow() - aware(last_sent) >= wait


def queue_confirmation(page: Page, entry: Signup) -> None:
    """The confirmation mail, unless one went to this address moments ago."""
    if not _due(entry.confirm_sent_at):
        return
    confirm = absolute_url("subscriber.confirm", slug=entry.page, token=confirm_token(entry))
    if queue_mail("confirm", subject_of("confirm", page), page, entry, confirm_url=confirm):
        entry.confirm_sent_at = utcnow()


def queue_status_link(page: Page, entry: Signup) -> None:
    """The private status link, unless one went to this address moments ago."""
    if _due(entry.status_sent_at) and queue_mail("status_link", _status_subject(page), page, entry):
        entry.status_sent_at = utcnow()


def _status_subject(page: Page) -> str:
    return subject_of("status_link", page)


def on_created(page: Page, entry: Signup) -> None:
    queue_webhooks(page, "signup.created", entry)
    if page.waitlist.double_opt_in:
        queue_confirmation(page, entry)
    else:
        queue_list_sync("subscribe", entry, entry.email)
        queue_welcome(page, entry)


def queue_welcome(page: Page, entry: Signup) -> None:
    """The welcome mail: the place in line, what the next reward needs, the share link with a
    button that shares it by mail, and the status link (what the status page shows); at
    signup, or at confirmation (double opt-in)."""
    status = status_context(page, entry)
    queue_mail(
        "welcome", subject_of("welcome", page), page, entry,
        place=status["place"], list_size=status["list_size"],
        next_reward=status["next_reward"], bump=status["bump"],
        share_mail=status["share_links"]["E-mail"],
    )  # fmt: skip


STATUS_REQUEST = "status_request"


def queue_status_request(page: Page, email: str) -> None:
    """Someone asked for the status link of ``email``: queue the request as it is.

    Whether the address is on the list is looked up when the outbox delivers it, so the
    request does the same work, and takes the same time, for any address: its answer and
    its timing tell nobody who is on the list.
    """
    origin = request.host_url.rstrip("/")  # links' origin without BASE_URL (development)
    enqueue("mail", STATUS_REQUEST, email, {"page": page.slug, "origin": origin})


def _prepare_status_link(row: Outbox) -> dict[str, Any] | None:
    """The status-link mail for a queued request, or None: the address is not on the list,
    or its status link went out moments ago."""
    payload = json.loads(row.payload)
    page = registry().pages.get(payload.get("page"))
    if page is None:
        return None
    entry = db.session.scalar(
        select(Signup).where(
            Signup.page == page.slug,
            Signup.email_key == row.target.lower(),
            Signup.deleted_at.is_(None),
        )
    )
    if entry is None or not _due(entry.status_sent_at):
        return None
    entry.status_sent_at = utcnow()
    base = current_app.config.get("BASE_URL") or payload.get("origin") or "http://localhost"
    with current_app.test_request_context(base_url=base):
        return _message("status_link", _status_subject(page), page, entry)


SIGNUP_RECEIVED = "signup.received"


def queue_received(page: Page, entry: Signup, added: bool) -> None:
    """An address came in on a double opt-in page, new (``added``) or already listed: queue
    one job, the same for both. What differs (webhooks and the confirmation for a new one, the
    owner's mail for a listed one) is built at delivery, so the answer's timing tells nobody
    which it was, whatever receivers are configured."""
    origin = request.host_url.rstrip("/")
    payload = {"page": page.slug, "signup": entry.id, "added": added, "origin": origin}
    enqueue("job", SIGNUP_RECEIVED, entry.email, payload)


def _signup_received(row: Outbox) -> None:
    payload = json.loads(row.payload)
    page = registry().pages.get(payload.get("page"))
    entry = db.session.get(Signup, payload.get("signup"))
    if page is None or entry is None or entry.deleted_at is not None:
        return
    base = current_app.config.get("BASE_URL") or payload.get("origin") or "http://localhost"
    with current_app.test_request_context(base_url=base):
        if payload.get("added"):
            on_created(page, entry)
        else:
            on_repeated(page, entry)


def on_repeated(page: Page, entry: Signup) -> None:
    """Someone entered an address already on a double opt-in list: the owner, and only the
    owner, hears of it by mail (the confirmation again, or their status link)."""
    if entry.confirmed_at is None:
        queue_confirmation(page, entry)
    else:
        queue_status_link(page, entry)


def on_confirmed(page: Page, entry: Signup) -> None:
    queue_webhooks(page, "signup.confirmed", entry)
    queue_list_sync("subscribe", entry, entry.email)
    queue_welcome(page, entry)


# What the outbox does at delivery for the rows queued above (given to it by the factory).
PREPARED_MAIL = {STATUS_REQUEST: _prepare_status_link}
JOBS = {SIGNUP_RECEIVED: _signup_received}
