"""Sending e-mail: over SMTP, or over an HTTP API (Postmark, Resend) where a PaaS blocks SMTP.

Messages are rendered from templates/mail/ when the signup happens (so links are absolute
and correct) and stored in the outbox; the deliverer hands them to ``send``.
"""

from __future__ import annotations

import smtplib
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any
from urllib.parse import unquote
from urllib.parse import urlsplit

import requests
from flask import current_app
from flask import render_template

API_URLS = {
    "postmark": "https://api.postmarkapp.com/email",
    "resend": "https://api.resend.com/emails",
}
TIMEOUT = 10


class DeliveryError(Exception):
    """The message could not be handed over now; the outbox will try again later."""


def configured(config: Mapping[str, Any]) -> bool:
    return bool(config.get("MAIL_URL") or config.get("MAIL_API"))


def render(template: str, to: str, subject: str, unsubscribe: str | None, **context: Any) -> dict:
    """A message ready for the outbox: text and HTML bodies from templates/mail/. Mail to the
    founder (the digest) has no unsubscribe link: they turn it off with DIGEST_TO."""
    # RFC 8058: large mailbox providers unsubscribe with one POST to this link.
    headers = {
        "List-Unsubscribe": f"<{unsubscribe}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    return {
        "to": to,
        "subject": subject,
        "text": render_template(f"mail/{template}.txt", **context),
        "html": render_template(f"mail/{template}.html", **context),
        "headers": headers if unsubscribe else {},
    }


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
    mail = EmailMessage()
    mail["From"] = config["MAIL_FROM"]
    mail["To"] = message["to"]
    mail["Subject"] = message["subject"]
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
            "From": config["MAIL_FROM"],
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
            "from": config["MAIL_FROM"],
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
