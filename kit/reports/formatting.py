"""Numbers as the founder reads them: percents, intervals, money, dates; registered once as
Jinja filters (``init_app``) and used by ``kit stats`` as text."""

from __future__ import annotations

from typing import Any

from flask import Flask

from kit import money
from kit.reports import costs
from kit.reports.preorders import PreOrders
from kit.reports.stats import Cost
from kit.reports.stats import Report
from kit.reports.stats import arm_label

# --- Formatting for templates (numbers are formatted here, never computed in Jinja) ---------


def money_filter(amounts: dict[str, int]) -> str:
    return money.totals_text(amounts)


def amount_filter(minor: float | None, currency: str) -> str:
    return "–" if minor is None else money.text(minor, currency)


def cost_filter(cost: Cost | None, currency: str) -> str:
    return costs.cost_text(cost, currency)


def interval(value: Any, signed: bool = False) -> str:
    return interval_text(value.low, value.high, signed) if value else "–"


def signed(value: int) -> str:
    return f"{value:+,}" if value else "±0"


def points(value: float | None) -> str:
    """An absolute difference of two rates, in percentage points: +2.1 pp."""
    return "–" if value is None else f"{value * 100:+.1f} pp"


def interval_points(value: Any) -> str:
    if not value:
        return "–"
    return f"{value.low * 100:+.1f} to {value.high * 100:+.1f} pp"


def decimal(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else ""


def percent(value: float | None, digits: int = 1) -> str:
    """0.1234 → "12.3%"; a missing number reads as a dash, never "nan"."""
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def signed_percent(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:+.1f}%"


def interval_text(low: float | None, high: float | None, signed: bool = False) -> str:
    if low is None or high is None:
        return "–"
    show = signed_percent if signed else percent
    return f"{show(low)} to {show(high)}"


def p_text(value: float | None) -> str:
    if value is None:
        return "–"
    return "< 0.0001" if value < 0.0001 else f"{value:.4f}"


def variant_rows(
    report: Report, bought: PreOrders | None = None
) -> tuple[list[str], list[list[Any]]]:
    """The per-variant table as plain cells (the CSV exports); with ``bought``, each arm's
    paying visitors, pre-orders, net revenue and refunds after its signup columns."""
    header = [
        "variant", "visitors", "converted", "signups", "rate", "rate_low", "rate_high",
        "uplift_abs", "uplift_abs_low", "uplift_abs_high",
        "uplift_rel", "uplift_rel_low", "uplift_rel_high",
        "z", "p_value", "test", "p_adjusted", "always_valid_p",
        "chance_to_beat_control", "chance_to_be_best",
    ]  # fmt: skip
    rows = []
    for arm in report.arms:
        rows.append(
            [
                arm_label(arm.name),
                arm.visitors,
                arm.conversions,
                arm.signups,
                arm.rate,
                *_bounds(arm.rate_interval),
                arm.uplift_abs,
                *_bounds(arm.uplift_abs_interval),
                arm.uplift_rel,
                *_bounds(arm.uplift_rel_interval),
                arm.z,
                arm.p_value,
                arm.test or "",
                arm.p_adjusted,
                arm.always_valid_p,
                arm.chance_to_beat_control,
                arm.chance_to_be_best,
            ]  # fmt: skip
        )
    if bought is not None:
        header += ["paying_visitors", "preorders", "revenue", "refunds"]
        for row, paying, arm in zip(rows, bought.report.arms, bought.arms, strict=True):
            row += [paying.conversions, arm.preorders, money.plain(arm.revenue), arm.refunds]
    return header, rows


def _bounds(interval: Any) -> tuple[float | None, float | None]:
    return (interval.low, interval.high) if interval is not None else (None, None)


def preorder_lines(bought: PreOrders) -> list[str]:
    """``flask kit stats``: each arm's paid conversion, pre-orders, revenue and refunds."""
    lines = []
    for paying, arm in zip(bought.report.arms, bought.arms, strict=True):
        interval = interval_text(*_bounds(paying.rate_interval))
        lines.append(
            f"  {arm_label(arm.variant)}: {paying.conversions:,} of {paying.visitors:,} "
            f"visitors paid, {percent(paying.rate)} ({interval}); {arm.preorders:,} pre-orders, "
            f"revenue {money.totals_text(arm.revenue)}, refunds {arm.refunds:,}"
        )
    if bought.unattributed:
        lines.append(f"  + {bought.unattributed:,} pre-order(s) by visitors not counted")
    return lines


def text_table(report: Report) -> str:
    """The per-variant numbers as an aligned plain-text table for the terminal."""
    header = ["variant", "visitors", "converted", "signups", "rate (95% CI)",
              "uplift rel (95% CI)", "p", "test", "always-valid p", "P(beat control)",
              "P(best)"]  # fmt: skip
    lines = [header]
    for arm in report.arms:
        rate = f"{percent(arm.rate)} ({interval_text(*_bounds(arm.rate_interval))})"
        uplift = (
            f"{signed_percent(arm.uplift_rel)} "
            f"({interval_text(*_bounds(arm.uplift_rel_interval), signed=True)})"
        )
        lines.append(
            [
                arm_label(arm.name),
                f"{arm.visitors:,}",
                f"{arm.conversions:,}",
                "–" if arm.signups is None else f"{arm.signups:,}",
                rate,
                "baseline" if arm.is_control else uplift,
                p_text(arm.p_adjusted if report.corrected else arm.p_value),
                arm.test or "",
                p_text(arm.always_valid_p),
                percent(arm.chance_to_beat_control),
                percent(arm.chance_to_be_best),
            ]  # fmt: skip
        )
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in lines
    )


def paragraphs(text: str) -> list[str]:
    """Split config text into paragraphs at blank lines (each is escaped by the template)."""
    return [part.strip() for part in text.split("\n\n") if part.strip()]


def init_app(app: Flask) -> None:
    """Register the filters with Jinja: templates format numbers here, never compute them."""
    app.jinja_env.filters.update(
        money=money_filter,
        amount=amount_filter,
        cost=cost_filter,
        interval=interval,
        signed=signed,
        points=points,
        interval_points=interval_points,
        decimal=decimal,
        when=when,
        paragraphs=paragraphs,
        percent=percent,
        signed_percent=signed_percent,
        pvalue=p_text,
        arm=arm_label,
    )
