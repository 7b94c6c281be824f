"""Sending e-mail: over SMTP, or over an HTTP API (Postmark, Resend) where a PaaS blocks SMTP.

Messages are rendered from templates/mail/ when the signup happens (so links are absolute
and correct) and stored in the outbox; the deliverer hands them to ``send``.
"""

from __future__ import annotations

import email.policy
import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formataddr
from email.utils import formatdate
from email.utils import make_msgid
from typing import Any
from urllib.parse import unquote
from urllib.parse import urlsplit

import css_inline
import requests
from flask import current_app
from flask import render_template

API_URLS = {
    "postmark": "https://api.postmarkapp.com/email",
    "resend": "https://api.resend.com/emails",
}
TIMEOUT = 10
INLINER = css_inline.CSSInliner(keep_style_tags=True)  # styles inlined, media queries kept
HEADERS_UNFOLDED = email.policy.default.clone(max_line_length=998)


class DeliveryError(Exception):
    """The message could not be handed over now; the outbox will try again later."""


def configured(config: Mapping[str, Any]) -> bool:
    return bool(config.get("MAIL_URL") or config.get("MAIL_API"))


def render(
    template: str,
    to: str,
    subject: str,
    unsubscribe: str | None,
    sender: str | None = None,
    **context: Any,
) -> dict:
    """A message ready for the outbox: text and HTML bodies from templates/mail/, the HTML's
    stylesheet inlined into each element (mail clients drop ``<style>``; its media queries
    stay for those that read them). ``sender``: the From line's name (MAIL_FROM_NAME wins).
    Mail to the founder (the digest) has no unsubscribe link: they turn it off with
    DIGEST_TO."""
    # RFC 8058: large mailbox providers unsubscribe with one POST to this link.
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    html = render_template(f"mail/{template}.html", subject=subject, **context)
    return {
        "to": to,
        "subject": subject,
        "from_name": current_app.config.get("MAIL_FROM_NAME") or sender or "",
        "text": render_template(f"mail/{template}.txt", **context),
        "html": INLINER.inline(html),
        "headers": headers if unsubscribe else {},
    }


def sender_of(config: Mapping[str, Any], message: Mapping[str, Any]) -> str:
    """ "Tidyday <hello@example.com>": the name quoted or encoded as the header needs."""
    return formataddr((message.get("from_name") or "", config["MAIL_FROM"]))


def send(message: Mapping[str, Any]) -> None:
    config = current_app.config
    if config.get("MAIL_API"):
        _send_api(config, message)
    elif config.get("MAIL_URL"):
        _send_smtp(config, message)
    else:
        raise DeliveryError("no mail transport: set MAIL_URL or MAIL_API")


def _send_smtp(config: Mapping[str, Any], message: Mapping[str, Any]) -> None:
    """MAIL_URL: smtp://user:pass@host:587 (STARTTLS), smtps://…:465 (TLS), smtp://host:25."""
    url = urlsplit(config["MAIL_URL"])
    # Headers up to RFC 5322's 998 characters stay on one line: folding would turn a long
    # List-Unsubscribe URL into an encoded word, which RFC 2369 readers don't take.
    mail = EmailMessage(policy=HEADERS_UNFOLDED)
    mail["From"] = sender_of(config, message)
    mail["To"] = message["to"]
    mail["Subject"] = message["subject"]
    mail["Date"] = formatdate(usegmt=True)
    mail["Message-ID"] = make_msgid(domain=config["MAIL_FROM"].rpartition("@")[2] or None)
    for name, value in message["headers"].items():
        mail[name] = value
    mail.set_content(message["text"])
    mail.add_alternative(message["html"], subtype="html")
    connect = smtplib.SMTP_SSL if url.scheme == "smtps" else smtplib.SMTP
    try:
        with connect(url.hostname or "localhost", url.port or 0, timeout=TIMEOUT) as smtp:
            if url.scheme == "smtp" and url.port == 587:
                smtp.starttls()
            if url.username:
                smtp.login(unquote(url.username), unquote(url.password or ""))
            smtp.send_message(mail)
    except (OSError, smtplib.SMTPException) as error:
        raise DeliveryError(f"SMTP {url.hostname}: {error}") from error


def _send_api(config: Mapping[str, Any], message: Mapping[str, Any]) -> None:
    provider = config["MAIL_API"]
    url = config.get("MAIL_API_URL") or API_URLS[provider]
    key = config["MAIL_API_KEY"]
    if provider == "postmark":
        headers = {"X-Postmark-Server-Token": key, "Accept": "application/json"}
        body: dict[str, Any] = {
            "From": sender_of(config, message),
            "To": message["to"],
            "Subject": message["subject"],
            "TextBody": message["text"],
            "HtmlBody": message["html"],
            "Headers": [{"Name": k, "Value": v} for k, v in message["headers"].items()],
            "MessageStream": "outbound",
        }
    else:
        headers = {"Authorization": f"Bearer {key}"}
        body = {
            "from": sender_of(config, message),
            "to": [message["to"]],
            "subject": message["subject"],
            "text": message["text"],
            "html": message["html"],
            "headers": dict(message["headers"]),
        }
    try:
        response = requests.post(url, json=body, headers=headers, timeout=TIMEOUT)
    except requests.RequestException as error:
        raise DeliveryError(f"{provider}: {error}") from error
    if response.status_code >= 300:
        raise DeliveryError(f"{provider} answered {response.status_code}: {response.text[:200]}")
