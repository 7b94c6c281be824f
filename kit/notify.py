"""What goes out when a signup is created, confirmed or removed: mail, webhooks, list sync.

Everything is queued in the outbox inside the caller's transaction (see kit/outbox.py), so a
signup never waits for, or fails because of, a mail server or a webhook receiver.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app

from . import mail
from . import webhooks
from .links import absolute_url
from .models import Exposure
from .models import Signup
from .models import db
from .models import utcnow
from .outbox import enqueue
from .pages import Page
from .referrals import confirm_token
from .referrals import remove_url
from .referrals import share_url
from .referrals import status_url


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
    payload = event(kind, entry, email)
    for url, fmt in webhooks.targets(page.waitlist.webhooks, current_app.config):
        enqueue("webhook", kind, url, {"format": fmt, "event": payload})


def queue_list_sync(action: str, entry: Signup, email: str) -> None:
    if current_app.config.get("BUTTONDOWN_API_KEY"):
        enqueue("list", f"list.{action}", email, {"action": action, "tag": entry.page})


def queue_mail(template: str, subject: str, page: Page, entry: Signup, **context: Any) -> bool:
    """Queue one e-mail to the signup's address; False when no mail transport is set up."""
    if not mail.configured(current_app.config):
        return False
    message = mail.render(
        template,
        to=entry.email,
        subject=subject,
        unsubscribe=remove_url(entry),
        page=page,
        content=page.content,
        entry=entry,
        status_url=status_url(entry),
        share_url=share_url(entry),
        remove_url=remove_url(entry),
        **context,
    )
    enqueue("mail", template, entry.email, message)
    return True


def queue_confirmation(page: Page, entry: Signup) -> None:
    confirm = absolute_url("status.confirm", slug=entry.page, token=confirm_token(entry))
    if queue_mail(
        "confirm", f"Please confirm: {page.content.title}", page, entry, confirm_url=confirm
    ):
        entry.confirm_sent_at = utcnow()


def on_created(page: Page, entry: Signup) -> None:
    queue_webhooks(page, "signup.created", entry)
    if page.waitlist.double_opt_in:
        queue_confirmation(page, entry)
    else:
        queue_list_sync("subscribe", entry, entry.email)
        queue_mail("welcome", f"You're on the list: {page.content.title}", page, entry)


def on_confirmed(page: Page, entry: Signup) -> None:
    queue_webhooks(page, "signup.confirmed", entry)
    queue_list_sync("subscribe", entry, entry.email)
