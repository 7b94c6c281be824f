"""The visitor's forms: the signup form (with its honeypot and signed render time) and the
status-link request. Field rules only; kit/waitlist/signup.py stores what a valid form says."""

from __future__ import annotations

import math
import re
import time

from email_validator import EmailNotValidError
from email_validator import EmailUndeliverableError
from email_validator import validate_email
from flask import current_app
from flask_babel import LazyString
from flask_wtf import FlaskForm
from itsdangerous import BadSignature
from itsdangerous import TimestampSigner
from wtforms import BooleanField
from wtforms import EmailField
from wtforms import HiddenField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import ValidationError

from kit import fastpath
from kit.language import lazy
from kit.language import text
from kit.language import translated
from kit.models import Signup
from kit.models import utcnow
from kit.pages.schema import Content
from kit.pages.schema import Form as FormConfig
from kit.pages.schema import Page
from kit.texts import N_
from kit.tracking.traffic import clean_text

HONEYPOT_FIELD = "leave_this_empty"
NUMBER_RE = re.compile(r"[0-9]{1,9}(?:[.,][0-9]{1,2})?")  # 12, 12.5, 12,50; no sign, no thousands


def _strip(value: object) -> object:
    return clean_text(value) if isinstance(value, str) else value


def _normalise_email(form: FlaskForm, field: EmailField) -> None:
    """Check syntax (and DNS only when configured) and replace the value with its normal form."""
    try:
        result = validate_email(
            field.data or "",
            check_deliverability=current_app.config["EMAIL_CHECK_DELIVERABILITY"],
        )
    except EmailUndeliverableError:
        raise ValidationError(text("form.email_no_mail")) from None
    except EmailNotValidError:
        raise ValidationError(text("form.email_invalid")) from None
    field.data = result.normalized


def _email_field(label: str | LazyString) -> EmailField:
    """A required, checked and normalised e-mail address field."""
    return EmailField(
        label,
        validators=[
            DataRequired(lazy("form.email_missing")),
            Length(max=254, message=lazy("form.email_too_long")),
            _normalise_email,
        ],
        filters=[_strip],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )


class SignupForm(FlaskForm):
    """The waitlist form; unused optional fields are removed per page by ``for_page``."""

    email = _email_field(N_("Email address"))  # the page's email_label (for_page)
    name = StringField(
        lazy("form.name"),
        validators=[
            Optional(),
            Length(max=100, message=lazy("form.name_too_long")),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "name"},
    )
    answer = TextAreaField(
        lazy("form.answer"),
        validators=[
            Optional(),
            Length(max=1000, message=lazy("form.answer_too_long")),
        ],
        filters=[_strip],
    )
    consent = BooleanField(
        lazy("form.consent"),
        validators=[DataRequired(lazy("form.consent_missing"))],
    )
    # Bots fill every field; people never see this one and browsers don't autofill it.
    leave_this_empty = StringField(
        lazy("form.leave_empty"),
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )
    rendered = HiddenField()  # signed time the form was first shown (minimum-time bot check)
    question: FormConfig = FormConfig()  # the page's question: its kind, unit and answers

    def validate_answer(self, field: TextAreaField) -> None:
        """A number question takes a number (stored as typed, a decimal point for a comma); a
        choice question one of its answers."""
        value, question = (field.data or "").strip(), self.question
        if not value:
            return
        if question.question_kind == "number":
            if not NUMBER_RE.fullmatch(value):
                raise ValidationError(text("form.number_invalid"))
            field.data = value.replace(",", ".")
        elif (
            self.question.question_kind == "choice" and value not in self.question.question_options
        ):
            raise ValidationError(text("form.choice_invalid"))

    @classmethod
    def for_page(cls, config: FormConfig, **kwargs) -> SignupForm:
        """Build the form for one page, dropping the fields that page doesn't ask for."""
        form = cls(**kwargs)
        form.email.label.text = translated(config.email_label)
        if not config.ask_name:
            del form.name
        else:
            form.name.label.text = text("form.optional", label=text("form.name"))
        if config.question:
            form.answer.label.text = _optional(config.question)
            form.question = config
        else:
            del form.answer
        if config.consent:
            form.consent.label.text = config.consent
        else:
            del form.consent
        return form


def _optional(label: str) -> str:
    """The label of a field a visitor may leave empty, saying so once."""
    return label if "optional" in label.lower() else text("form.optional", label=label)


class StatusRequestForm(FlaskForm):
    """Ask for one's status link by e-mail (from a new device)."""

    email = _email_field(lazy("find.email"))


def _seconds_since_render(form: SignupForm, slug: str) -> float | None:
    """Seconds since the form was first shown, from its signed field; None if missing or forged."""
    try:
        value, rendered_at = fastpath.render_time_signer().unsign(
            form.rendered.data or "", return_timestamp=True
        )
    except BadSignature:
        return None
    if value.decode() != slug:
        return None
    return time.time() - rendered_at.timestamp()


def keep_render_time(form: SignupForm, slug: str) -> None:
    """The form's signed render time: the one it was sent with when valid (a form shown again
    counts from its first showing), else signed now."""
    if _seconds_since_render(form, slug) is None:
        form.rendered.data = fastpath.signed_render_time(slug)


class _ShownEarlier(TimestampSigner):
    """Signs a render time ``seconds`` in the past."""

    def __init__(self, signer: TimestampSigner, seconds: float) -> None:
        super().__init__(signer.secret_keys[-1], salt=signer.salt)
        self.seconds = seconds

    def get_timestamp(self) -> int:
        return int(time.time() - self.seconds)


def vouch_render_time(form: SignupForm, slug: str) -> None:
    """Sign the form as shown MIN_SUBMIT_SECONDS ago, for a visitor Stripe has shown to be a
    person (a paid checkout): their address is filled in, so one quick press must count. (Any
    browser can get a signed time that old by waiting, so this opens nothing to a bot.)"""
    seconds = math.ceil(current_app.config["MIN_SUBMIT_SECONDS"]) + 1
    signer = _ShownEarlier(fastpath.render_time_signer(), seconds)
    form.rendered.data = signer.sign(slug).decode()


def too_fast(form: SignupForm, slug: str) -> bool:
    """Sent sooner than MIN_SUBMIT_SECONDS after the form was shown (or with its signed render
    time missing or forged): a bot, or a person asked to press once more."""
    elapsed = _seconds_since_render(form, slug)
    minimum = current_app.config["MIN_SUBMIT_SECONDS"]
    return bool(minimum) and (elapsed is None or elapsed < minimum)


INVALID, BOT, HURRIED, ACCEPTED = "invalid", "bot", "hurried", "accepted"


def judge(form: SignupForm, slug: str) -> str:
    """What a posted signup form is: ``INVALID`` (show its errors), ``BOT`` (the honeypot is
    filled: answer like a success, store nothing), ``HURRIED`` (sent too fast: ask to press
    once more) or ``ACCEPTED``. The landing page and the embedded form judge alike."""
    if not form.validate():
        return INVALID
    if form.leave_this_empty.data:
        return BOT
    if too_fast(form, slug):
        return HURRIED
    return ACCEPTED


def new_signup(page: Page, content: Content, form: SignupForm) -> Signup:
    """The signup an accepted form describes, not stored yet."""
    entry = Signup(
        page=page.slug,
        email=form.email.data,
        email_key=form.email.data.lower(),
        name=form.name.data or None if "name" in form else None,
        answer=form.answer.data or None if "answer" in form else None,
        confirmed_at=None if page.waitlist.double_opt_in else utcnow(),
    )
    if "consent" in form:
        entry.consent_text = content.form.consent
        entry.consented_at = utcnow()
    return entry
