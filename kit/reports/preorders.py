"""Paid pre-orders per variant: paying visitors with their statistics, orders, revenue and
refunds, and the Stripe payments the kit could not book."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select

from kit import money
from kit.models import NOT_REFUNDED
from kit.models import PreOrder
from kit.models import StripeEvent
from kit.models import db
from kit.pages.schema import Page
from kit.reports.daily import PerDay
from kit.reports.daily import by_day
from kit.reports.daily import daily_rows
from kit.reports.daily import looks_of
from kit.reports.daily import totals
from kit.reports.decision import analyse
from kit.reports.stats import Arm
from kit.reports.stats import Report


@dataclass(frozen=True)
class PreOrderArm:
    """One variant's paid pre-orders; amounts per currency, in its smallest unit."""

    variant: str
    preorders: int  # refunded ones included
    revenue: dict[str, int]  # net of refunds
    refunds: int  # pre-orders refunded, in full or in part
    refunded: dict[str, int]


@dataclass(frozen=True)
class PreOrders:
    """Visitor -> paid conversion (a visitor with a pre-order not refunded in full) with the
    signups' statistics, and each variant's orders, revenue and refunds."""

    report: Report
    arms: list[PreOrderArm]  # in the report's order
    unattributed: int  # this page's pre-orders by visitors not counted (founder, no cookie)
    looks: list[list[Arm]]  # paying visitors at the end of each day, for the sequential tests

    @property
    def preorders(self) -> int:
        return sum(arm.preorders for arm in self.arms)

    @property
    def revenue(self) -> dict[str, int]:
        return money.add_up(arm.revenue for arm in self.arms)


def preorders(
    page: Page, experiment: str, arms: list[Arm], visitors: PerDay, min_visitors: int
) -> PreOrders:
    """Paid pre-orders per variant (few rows: read one by one group): paying visitors on the
    day of their first pre-order, orders, net revenue and refunds per currency."""
    mine = (PreOrder.page == page.slug, PreOrder.experiment == experiment)
    first_paid = (
        select(PreOrder.variant, PreOrder.visitor_key, func.min(PreOrder.created_at).label("at"))
        .where(*mine, NOT_REFUNDED, PreOrder.visitor_key.is_not(None))
        .group_by(PreOrder.variant, PreOrder.visitor_key)
        .subquery()
    )
    per_day = by_day(
        db.session.execute(
            select(func.date(first_paid.c.at), first_paid.c.variant, func.count())
            .group_by(func.date(first_paid.c.at), first_paid.c.variant)
        )
    )  # fmt: skip
    paid = totals(per_day)
    paying = [Arm(a.name, a.visitors, paid.get(a.name, 0), a.weight) for a in arms]
    looks = looks_of(paying, daily_rows(paying, visitors, per_day))
    report = analyse(paying, min_visitors, looks=looks, converted="paid")
    orders: dict[str, list[int]] = {}
    revenue: dict[str, dict[str, int]] = {}
    refunded: dict[str, dict[str, int]] = {}
    query = (
        select(PreOrder.variant, PreOrder.currency, func.count(),
               func.sum(case((PreOrder.refunded > 0, 1), else_=0)),
               func.sum(PreOrder.amount - PreOrder.refunded), func.sum(PreOrder.refunded))
        .where(*mine)
        .group_by(PreOrder.variant, PreOrder.currency)
    )  # fmt: skip
    for variant, currency, count, refunds, net, back in db.session.execute(query):
        counts = orders.setdefault(variant, [0, 0])
        counts[0] += count
        counts[1] += int(refunds or 0)
        revenue.setdefault(variant, {})[currency] = int(net or 0)
        refunded.setdefault(variant, {})[currency] = int(back or 0)
    unattributed = db.session.scalar(
        select(func.count()).where(PreOrder.page == page.slug, PreOrder.variant.is_(None))
    )
    rows = [
        PreOrderArm(a.name, orders.get(a.name, [0, 0])[0], revenue.get(a.name, {}),
                    orders.get(a.name, [0, 0])[1], refunded.get(a.name, {}))
        for a in arms
    ]  # fmt: skip
    return PreOrders(report, rows, unattributed or 0, looks)


def unbooked_payments(slug: str | None = None) -> str:
    """ "2 payments could not be booked: amount out of range (1), not a currency code (1)" for
    the Stripe payments the kit could not book, of one page or of all; "" when there are none."""
    query = select(StripeEvent.problem, func.count()).where(StripeEvent.problem.is_not(None))
    if slug is not None:
        query = query.where(StripeEvent.page == slug)
    counted = func.count()
    rows = db.session.execute(
        query.group_by(StripeEvent.problem).order_by(counted.desc(), StripeEvent.problem)
    ).all()
    total = sum(count for _, count in rows)
    if not total:
        return ""
    reasons = ", ".join(f"{problem} ({count:,})" for problem, count in rows)
    payments = "1 payment" if total == 1 else f"{total:,} payments"
    return f"{payments} could not be booked: {reasons}"
