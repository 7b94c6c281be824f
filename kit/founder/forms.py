"""The founder's forms: the dashboard login and an ad-spend entry. Field rules only;
kit/founder/spend.py checks a spend entry's values together."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField
from wtforms import PasswordField
from wtforms import StringField
from wtforms.validators import DataRequired
from wtforms.validators import InputRequired
from wtforms.validators import Length
from wtforms.validators import Optional
from wtforms.validators import ValidationError


def _trim(value: object) -> object:
    """Spaces off, nothing else: what the founder typed is checked as typed."""
    return value.strip() if isinstance(value, str) else value


def _ascii_date(form: FlaskForm, field: DateField) -> None:
    """A day in ASCII digits ("２０２６-11-01" parses, but nobody means it)."""
    if not "".join(field.raw_data or []).isascii():
        raise ValidationError("Not a valid date value.")


class LoginForm(FlaskForm):
    """The founder's dashboard login."""

    password = PasswordField(
        "Admin password",
        validators=[DataRequired("Please enter the admin password."), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class SpendForm(FlaskForm):
    """Ad spend for one UTM source (and campaign) over a range of days (kit/founder/spend.py
    checks the values together)."""

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
