"""Forms: field rules only. Views decide what a valid form means for the database."""

from __future__ import annotations

import time

from email_validator import EmailNotValidError
from email_validator import validate_email
from flask import current_app
from flask_wtf import FlaskForm
from itsdangerous import BadSignature
from wtforms import BooleanField
from wtforms import DateField
from wtforms import EmailField
from wtforms import HiddenField
from wtforms import PasswordField
from wtforms import StringField
from wtforms import TextAreaField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import ValidationError

from kit.pages.schema import Form as FormConfig
from kit.tracking.traffic import clean_text
from kit.visitor import fastpath

HONEYPOT_FIELD = "leave_this_empty"


def _strip(value: object) -> object:
    return clean_text(value) if isinstance(value, str) else value


def _trim(value: object) -> object:
    """Spaces off, nothing else: what the founder typed is checked as typed (kit/spend.py)."""
    return value.strip() if isinstance(value, str) else value


def _ascii_date(form: FlaskForm, field: DateField) -> None:
    """A day in ASCII digits ("２０２６-11-01" parses, but nobody means it)."""
    if not "".join(field.raw_data or []).isascii():
        raise ValidationError("Not a valid date value.")


def _normalise_email(form: FlaskForm, field: EmailField) -> None:
    """Check syntax (and DNS only when configured) and replace the value with its normal form."""
    try:
        result = validate_email(
            field.data or "",
            check_deliverability=current_app.config["EMAIL_CHECK_DELIVERABILITY"],
        )
    except EmailNotValidError as error:
        raise ValidationError(f"Please enter a valid e-mail address ({error}).") from None
    field.data = result.normalized


def _email_field(label: str) -> EmailField:
    """A required, checked and normalised e-mail address field."""
    return EmailField(
        label,
        validators=[
            DataRequired("Please enter your e-mail address."),
            Length(max=254, message="That e-mail address is too long (254 characters at most)."),
            _normalise_email,
        ],
        filters=[_strip],
        render_kw={"autocomplete": "email", "inputmode": "email"},
    )


class SignupForm(FlaskForm):
    """The waitlist form; unused optional fields are removed per page by ``for_page``."""

    email = _email_field("Email address")
    name = StringField(
        "Your name",
        validators=[
            Optional(),
            Length(max=100, message="Please keep the name under 100 characters."),
        ],
        filters=[_strip],
        render_kw={"autocomplete": "name"},
    )
    answer = TextAreaField(
        "Answer",
        validators=[
            Optional(),
            Length(max=1000, message="Please keep the answer under 1000 characters."),
        ],
        filters=[_strip],
    )
    consent = BooleanField(
        "I agree",
        validators=[DataRequired("Please tick the box to agree before joining.")],
    )
    # Bots fill every field; people never see this one and browsers don't autofill it.
    leave_this_empty = StringField(
        "Leave this field empty",
        render_kw={"autocomplete": "off", "tabindex": "-1"},
    )
    rendered = HiddenField()  # signed time the form was first shown (minimum-time bot check)

    @classmethod
    def for_page(cls, config: FormConfig, **kwargs) -> SignupForm:
        """Build the form for one page, dropping the fields that page doesn't ask for."""
        form = cls(**kwargs)
        form.email.label.text = config.email_label
        if not config.ask_name:
            del form.name
        if config.question:
            form.answer.label.text = config.question
        else:
            del form.answer
        if config.consent:
            form.consent.label.text = config.consent
        else:
            del form.consent
        return form


class LoginForm(FlaskForm):
    """The founder's dashboard login."""

    password = PasswordField(
        "Admin password",
        validators=[DataRequired("Please enter the admin password."), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class SpendForm(FlaskForm):
    """Ad spend for one UTM source (and campaign) over a range of days (kit/spend.py checks
    the values together)."""

    source = StringField(
        "UTM source",
        validators=[DataRequired("Please enter the utm_source of the ads."), Length(max=100)],
        filters=[_trim],
        render_kw={"placeholder": "google"},
    )
    campaign = StringField(
        "UTM campaign (optional)", validators=[Optional(), Length(max=100)], filters=[_trim]
    )
    # InputRequired: a date that can't be read says so ("Not a valid date value").
    first_day = DateField(
        "From", validators=[InputRequired("Please enter the first day."), _ascii_date]
    )
    last_day = DateField(
        "To (included)", validators=[InputRequired("Please enter the last day."), _ascii_date]
    )
    amount = StringField(
        "Amount spent",
        validators=[DataRequired("Please enter the amount."), Length(max=20)],
        render_kw={"inputmode": "decimal", "placeholder": "120.00"},
    )
    currency = StringField(
        "Currency",
        default="USD",
        validators=[
            DataRequired("Please enter the currency."),
            Length(min=3, max=3, message="Use a three-letter code like USD or EUR."),
        ],
    )


class StatusRequestForm(FlaskForm):
    """Ask for one's status link by e-mail (from a new device)."""

    email = _email_field("Your e-mail address")


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


TOO_FAST = "Almost there: please press the button once more to confirm."


def too_fast(form: SignupForm, slug: str) -> bool:
    """Sent sooner than MIN_SUBMIT_SECONDS after the form was shown (or with its signed render
    time missing or forged): a bot, or a person asked to press once more."""
    elapsed = _seconds_since_render(form, slug)
    minimum = current_app.config["MIN_SUBMIT_SECONDS"]
    return bool(minimum) and (elapsed is None or elapsed < minimum)
