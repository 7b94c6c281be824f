"""The signed-up person's side: status page, confirmation link, "remove me", "my data".

Every link here carries a signed token that only the person's browser (right after signing
up) and their inbox ever see; someone who merely knows an address learns nothing.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from kit.delivery import mail
from kit.delivery import notify
from kit.errors import error_page
from kit.language import text
from kit.models import db
from kit.visitor.forms import StatusRequestForm
from kit.visitor.visit import load_page
from kit.waitlist.referrals import status_context
from kit.waitlist.signup import confirm_signup
from kit.waitlist.signup import remove_signup
from kit.waitlist.signup import unsubscribe_signup
from kit.waitlist.tokens import signup_from_confirm_token
from kit.waitlist.tokens import signup_from_status_token
from kit.waitlist.tokens import signup_from_unsubscribe_token
from kit.waitlist.tokens import status_token

bp = Blueprint("subscriber", __name__)


@bp.get("/<slug>/status/<token>")
def show(slug: str, token: str) -> str:
    page = load_page(slug)
    entry = signup_from_status_token(slug, token)
    if entry is None:
        abort(404, text("status.invalid"))
    return render_template(
        "subscriber/status.html", page=page, content=page.content, **status_context(page, entry)
    )


@bp.route("/<slug>/status", methods=["GET", "POST"])
def request_link(slug: str) -> Any:
    """Send the status link to an address on the list; the answer is the same for any address."""
    page = load_page(slug)
    form = StatusRequestForm()
    if form.validate_on_submit():
        if mail.configured(current_app.config):
            notify.queue_status_request(page, form.email.data)
            db.session.commit()
        return render_template("subscriber/status_sent.html", page=page, content=page.content)
    status = 422 if form.errors else 200
    html = render_template(
        "subscriber/status_request.html", page=page, content=page.content, form=form
    )
    return html, status


@bp.route("/<slug>/confirm/<token>", methods=["GET", "POST"])
def confirm(slug: str, token: str) -> Response | tuple | str:
    """The link in the confirmation e-mail opens a page with a button; its POST counts the
    signup and credits the referrer. Opening changes nothing: mail scanners open links."""
    page = load_page(slug)
    entry, problem = signup_from_confirm_token(slug, token)
    if entry is None:
        return error_page(400, text(f"confirm.{'expired' if problem == 'expired' else 'invalid'}"))
    if entry.confirmed_at is not None:  # confirmed already: the link leads to the status page
        return redirect(url_for("subscriber.show", slug=slug, token=status_token(entry)))
    form = FlaskForm()
    if not form.validate_on_submit():
        return render_template(
            "subscriber/confirm.html", page=page, content=page.content, form=form
        )
    confirm_signup(page, entry)
    db.session.commit()
    return redirect(url_for("subscriber.show", slug=slug, token=status_token(entry)))


@bp.route("/<slug>/remove/<token>", methods=["GET", "POST"])
def remove(slug: str, token: str) -> Any:
    page = load_page(slug)
    entry = signup_from_status_token(slug, token)
    if entry is None:
        return render_template("subscriber/removed.html", page=page, content=page.content)
    form = FlaskForm()
    if form.validate_on_submit():
        remove_signup(page, entry)
        db.session.commit()
        return render_template("subscriber/removed.html", page=page, content=page.content)
    return render_template(
        "subscriber/remove.html", page=page, content=page.content, entry=entry, form=form
    )


@bp.route("/<slug>/unsubscribe/<token>", methods=["GET", "POST"])
def unsubscribe(slug: str, token: str) -> Any:
    """One-click unsubscribe (RFC 8058): a mailbox provider POSTs ``List-Unsubscribe=One-Click``
    to the link in a mail's header, with no cookie and no CSRF token (the view is exempt): the
    signed link is the proof. A person who opens the link gets a button, because opening
    changes nothing (mail scanners open links). The place in line stays."""
    page = load_page(slug)
    entry = signup_from_unsubscribe_token(slug, token)
    if request.method == "GET":
        return render_template(
            "subscriber/unsubscribe.html", page=page, content=page.content, entry=entry
        )
    if entry is not None and unsubscribe_signup(entry):
        db.session.commit()
    return render_template("subscriber/unsubscribed.html", page=page, content=page.content)


@bp.get("/<slug>/status/<token>/data.json")
def my_data(slug: str, token: str) -> Response:
    """Everything we hold about the person, as a JSON download."""
    load_page(slug)
    entry = signup_from_status_token(slug, token)
    if entry is None:
        abort(404, text("link.invalid"))
    data = {
        "page": entry.page,
        "email": entry.email,
        "name": entry.name,
        "answer": entry.answer,
        "consent_text": entry.consent_text,
        "consented_at": entry.consented_at.isoformat() if entry.consented_at else None,
        "signed_up_at": entry.created_at.isoformat(),
        "confirmed_at": entry.confirmed_at.isoformat() if entry.confirmed_at else None,
        "unsubscribed_at": entry.unsubscribed_at.isoformat() if entry.unsubscribed_at else None,
        "variant_shown": entry.variant,
        "share_code": entry.share_code,
        "friends_referred": entry.referrals,
        "stored_about_your_visit": "an anonymous visitor key, first-visit time, UTM tags, "
        "referring site and device class (no IP address)",
    }
    response = current_app.json.response(data)
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}-my-data.json"'
    return response
