"""Webhooks and mailing-list sync: signed JSON events, Slack messages, Buttondown subscribers.

Every JSON event carries ``X-Waitlist-Signature: t=<unix time>,v1=<hex>``, the HMAC-SHA256 of
``"<t>.<body>"`` with WEBHOOK_SECRET, and ``X-Waitlist-Delivery``, an id that stays the same
when a delivery is retried, so a receiver can drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests
from flask import current_app

from kit.config import webhook_receivers
from kit.delivery.mail import DeliveryError

TIMEOUT = 10
BUTTONDOWN_URL = "https://api.buttondown.com/v1"


def signature(secret: str, timestamp: int, body: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def targets(page_hooks: Any, config: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(url, format) of every receiver: WEBHOOK_URLS (``slack:`` prefix or a Slack URL means
    Slack format) and the page's own ``[[waitlist.webhooks]]``."""
    found = webhook_receivers(config.get("WEBHOOK_URLS"))
    found.extend((hook.url, hook.format) for hook in page_hooks)
    return found


def slack_text(event: Mapping[str, Any]) -> str:
    data = event["data"]
    what = {
        "signup.created": "New signup",
        "signup.confirmed": "Signup confirmed",
        "signup.deleted": "Signup removed",
    }[event["type"]]
    details = [f"variant {data['variant']}" if data.get("variant") else None]
    details.append(f"via {data['utm_source']}" if data.get("utm_source") else None)
    details.append("referred by a friend" if data.get("referred_by") else None)
    extra = ", ".join(d for d in details if d)
    who = data.get("email") or "someone"
    return f"{what} on *{event['page']}*: {who}" + (f" ({extra})" if extra else "")


def post(url: str, fmt: str, event: Mapping[str, Any], delivery_id: int) -> None:
    if fmt == "slack":
        body = json.dumps({"text": slack_text(event)})
        headers = {"Content-Type": "application/json"}
    else:
        body = json.dumps(event, separators=(",", ":"), sort_keys=True)
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "X-Waitlist-Event": event["type"],
            "X-Waitlist-Delivery": str(delivery_id),
            "X-Waitlist-Signature": signature(
                current_app.config.get("WEBHOOK_SECRET") or "", timestamp, body
            ),
        }
    try:
        response = requests.post(url, data=body.encode(), headers=headers, timeout=TIMEOUT)
    except requests.RequestException as error:
        raise DeliveryError(f"webhook {url}: {error}") from error
    if response.status_code >= 300:
        raise DeliveryError(f"webhook {url} answered {response.status_code}")


def sync_list(action: str, email: str, tag: str) -> None:
    """Add a confirmed address to (or remove a deleted one from) the Buttondown list."""
    config = current_app.config
    base = (config.get("BUTTONDOWN_API_URL") or BUTTONDOWN_URL).rstrip("/")
    headers = {"Authorization": f"Token {config['BUTTONDOWN_API_KEY']}"}
    try:
        if action == "subscribe":
            response = requests.post(
                f"{base}/subscribers",
                json={"email_address": email, "tags": [tag]},
                headers=headers,
                timeout=TIMEOUT,
            )
            done = response.status_code < 300 or "already" in response.text.lower()
        else:
            response = requests.delete(
                f"{base}/subscribers/{quote(email)}", headers=headers, timeout=TIMEOUT
            )
            done = response.status_code < 300 or response.status_code == 404
    except requests.RequestException as error:
        raise DeliveryError(f"Buttondown: {error}") from error
    if not done:
        raise DeliveryError(f"Buttondown answered {response.status_code}: {response.text[:200]}")
