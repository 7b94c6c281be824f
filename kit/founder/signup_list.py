"""A page's signup list: the dashboard's searchable table, the API's pages of it and the CSV,
newest first, each signup with the sources of the visit it came from."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select

from kit.models import Exposure
from kit.models import Signup
from kit.models import db

SIGNUP_COLUMNS = [
    "id", "created_at", "email", "name", "answer", "confirmed_at", "experiment", "variant",
    "referrals", "referred", "consent_text", "consented_at", "utm_source", "utm_medium",
    "utm_campaign", "utm_content", "utm_term", "referrer_host", "device",
]  # fmt: skip
CONFIRMED_FILTER = {"yes": True, "no": False}  # ?confirmed=yes|no; anything else: all


def signup_query(slug: str, search: str = "", confirmed: bool | None = None) -> Select:
    """A page's signups, newest first, with the source of the visit each came from;
    ``confirmed`` keeps only the confirmed (True) or the unconfirmed (False) ones."""
    query = (
        select(
            Signup.id,
            Signup.created_at,
            Signup.email,
            Signup.name,
            Signup.answer,
            Signup.confirmed_at,
            Signup.experiment,
            Signup.variant,
            Signup.referrals,
            case((Signup.referred_by_id.is_not(None), "yes"), else_="no").label("referred"),
            Signup.consent_text,
            Signup.consented_at,
            Exposure.utm_source,
            Exposure.utm_medium,
            Exposure.utm_campaign,
            Exposure.utm_content,
            Exposure.utm_term,
            Exposure.referrer_host,
            Exposure.device,
        )  # fmt: skip
        .outerjoin(Exposure, Signup.exposure_id == Exposure.id)
        .where(Signup.page == slug)
        .order_by(Signup.created_at.desc(), Signup.id.desc())
    )
    if confirmed is not None:
        done = Signup.confirmed_at.is_not(None)
        query = query.where(done if confirmed else ~done)
    if search:
        pattern = f"%{_escape_like(search.strip())}%"
        query = query.where(
            Signup.email.ilike(pattern, escape="\\")
            | Signup.name.ilike(pattern, escape="\\")
            | Signup.answer.ilike(pattern, escape="\\")
        )
    return query


def signup_rows(slug: str, confirmed: bool | None = None) -> Iterator[Any]:
    """Every signup of a page, fetched in batches as the export is written (not all at once)."""
    query = signup_query(slug, confirmed=confirmed).execution_options(yield_per=1000)
    yield from db.session.execute(query)


@dataclass(frozen=True)
class Listing:
    """One page of a long list, with what the pager needs."""

    items: list[Any]
    total: int
    page: int
    pages: int

    @property
    def previous(self) -> int | None:
        return self.page - 1 if self.page > 1 else None

    @property
    def next(self) -> int | None:
        return self.page + 1 if self.page < self.pages else None


def signup_listing(
    slug: str, search: str, page: int, per_page: int, confirmed: bool | None = None
) -> Listing:
    query = signup_query(slug, search, confirmed)
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    items = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return Listing(items, total, page, pages)


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
