"""Server-rendered SVG line charts: the geometry is computed here, templates only draw it.

Charts must read with JavaScript off and load nothing from elsewhere, so they are plain SVG
with a text alternative; the numbers are also in a table next to each chart.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass

from kit.reports.funnel import Step
from kit.reports.stats import Report
from kit.reports.stats import arm_label

# Distinguishable for common colour-vision deficiencies (Okabe–Ito), readable on white.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9", "#E69F00", "#000000")

WIDTH, HEIGHT = 640, 240
LEFT, RIGHT, TOP, BOTTOM = 56, 16, 12, 28


@dataclass(frozen=True)
class Line:
    name: str
    colour: str
    points: str  # "x,y x,y ..." for <polyline points>
    last_label: str


@dataclass(frozen=True)
class Tick:
    position: float
    label: str


@dataclass(frozen=True)
class Chart:
    title: str
    description: str
    width: int
    height: int
    lines: list[Line]
    y_ticks: list[Tick]
    x_ticks: list[Tick]
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM


def line_chart(
    title: str,
    x_labels: Sequence[str],
    series: dict[str, Sequence[float | None]],
    label: Callable[[float], str] = lambda v: f"{v:g}",
    whole: bool = False,
) -> Chart:
    """Lay out one line per series over shared x labels; ``None`` values leave a gap.

    ``whole``: the values are counts, so the axis never shows a fraction of a visitor.
    """
    values = [v for points in series.values() for v in points if v is not None]
    step = _step(max(values, default=0.0), whole)
    top_value = step * max(1, math.ceil(max(values, default=0.0) / step - 1e-9))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    steps = max(len(x_labels) - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + plot_w * i / steps, 1)

    def y(v: float) -> float:
        return round(TOP + plot_h * (1 - v / top_value), 1)

    lines = []
    for n, (name, points) in enumerate(series.items()):
        coordinates = " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(points) if v is not None)
        last = next((v for v in reversed(points) if v is not None), None)
        lines.append(
            Line(
                name,
                PALETTE[n % len(PALETTE)],
                coordinates,
                label(last) if last is not None else "–",
            )
        )
    steps_up = round(top_value / step)
    y_ticks = [Tick(y(step * k), label(step * k)) for k in range(steps_up + 1)]
    every = max(1, len(x_labels) // 6)
    x_ticks = [Tick(x(i), text) for i, text in enumerate(x_labels) if i % every == 0]
    summary = "; ".join(f"{line.name}: {line.last_label} at the end" for line in lines)
    description = f"{title}, {len(x_labels)} days. {summary}." if lines else f"{title}: no data."
    return Chart(title, description, WIDTH, HEIGHT, lines, y_ticks, x_ticks)


def _step(value: float, whole: bool) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving at most five steps."""
    if value <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(value / 5))
    for multiple in (1, 2, 5, 10):
        step = multiple * power
        if value / step <= 5:
            return max(step, 1.0) if whole else step
    return 10 * power


SPARK_WIDTH, SPARK_HEIGHT = 120, 28


def sparkline(values: Sequence[float]) -> str:
    """The ``<polyline points>`` of a small line of ``values`` (oldest first) across
    SPARK_WIDTH, scaled to its own largest value; all zeros lie along the bottom."""
    top = max(values, default=0) or 1
    steps = max(len(values) - 1, 1)
    inner = SPARK_HEIGHT - 4  # two pixels clear at top and bottom for the stroke
    return " ".join(
        f"{round(SPARK_WIDTH * i / steps, 1)},{round(2 + inner * (1 - max(v, 0) / top), 1)}"
        for i, v in enumerate(values)
    )


BAR_WIDTH, BAR_HEIGHT = 160, 16


@dataclass(frozen=True)
class Bar:
    """A conversion interval on an axis shared by every variant of a table: x of its low end,
    its width, and x of the rate (SVG user units across BAR_WIDTH)."""

    low: float
    width: float
    rate: float


def interval_bars(
    intervals: Sequence[tuple[float, float, float] | None],
) -> list[Bar | None]:
    """Lay (low, rate, high) intervals on one axis from 0 to the highest ``high`` (at least
    1 %), so that bars compare at a glance; None stays None (no data)."""
    top = max(max((item[2] for item in intervals if item), default=0.0), 0.01)

    def x(value: float) -> float:
        return round(BAR_WIDTH * min(max(value, 0.0), top) / top, 1)

    bars: list[Bar | None] = []
    for item in intervals:
        if item is None:
            bars.append(None)
            continue
        low, rate, high = item
        bars.append(Bar(x(low), max(round(x(high) - x(low), 1), 1.0), x(rate)))
    return bars


# --- the forest plot: every variant's interval on one wide axis ----------------------------

FOREST_WIDTH, FOREST_ROW, FOREST_AXIS = 640, 30, 26
LABEL_CHARACTER = 9.5  # user units a label's character may take (16 px text on a phone)


def label_column(labels: Sequence[str]) -> int:
    """The width left of the plot that the longest label needs, at least 60 units."""
    return max(60, round(max((len(label) for label in labels), default=0) * LABEL_CHARACTER) + 12)


@dataclass(frozen=True)
class ForestRow:
    name: str
    y: float
    low: float | None  # x of the interval's ends and of the rate; None: no data
    high: float | None
    rate: float | None
    label: str  # "20.6% (18.2% to 23.3%)"


@dataclass(frozen=True)
class Forest:
    title: str
    description: str
    width: int
    height: int
    left: int
    right: int
    rows: list[ForestRow]
    ticks: list[Tick]
    reference: float | None  # x of the line read against: the control's rate, or the bar


def forest(
    title: str,
    rows: Sequence[tuple[str, float | None, float | None, float | None]],
    label: Callable[[float], str],
    reference: float | None = None,
) -> Forest:
    """One row per (name, low, rate, high) on an axis from 0 to the highest ``high`` (or the
    ``reference``) rounded up to a tick; the ``reference`` drawn as a line (a bar to clear),
    else the first row's rate when there are several (the control)."""
    highs = [high for _, low, rate, high in rows if high is not None]
    highs += [reference] if reference is not None else []
    step = _step(max(max(highs, default=0.0), 0.01), whole=False)
    top = step * max(1, math.ceil(max(highs, default=0.01) / step - 1e-9))
    left, right = label_column([name for name, *_ in rows]), FOREST_WIDTH - 32  # the last tick

    def x(value: float) -> float:
        return round(left + (right - left) * min(max(value, 0.0), top) / top, 1)

    laid = []
    for n, (name, low, rate, high) in enumerate(rows):
        y = FOREST_ROW * n + FOREST_ROW / 2
        if low is None or rate is None or high is None:
            laid.append(ForestRow(name, y, None, None, None, "no data yet"))
            continue
        text = f"{label(rate)} ({label(low)} to {label(high)})"
        laid.append(ForestRow(name, y, x(low), x(high), x(rate), text))
    height = FOREST_ROW * len(rows) + FOREST_AXIS
    ticks = [Tick(x(step * k), label(step * k)) for k in range(round(top / step) + 1)]
    if reference is not None:
        drawn = x(reference)
    else:
        drawn = laid[0].rate if len(laid) > 1 else None
    summary = "; ".join(f"{row.name}: {row.label}" for row in laid)
    return Forest(title, f"{title}. {summary}.", FOREST_WIDTH, height, left, right, laid, ticks,
                  drawn)  # fmt: skip


# --- the funnel: how far each variant's visitors got ----------------------------------------

FUNNEL_BAR = 18


@dataclass(frozen=True)
class FunnelBar:
    variant: str
    colour: str
    y: float
    width: float
    label: str  # "206 (20.6%)"


@dataclass(frozen=True)
class FunnelStep:
    name: str
    y: float  # of the step's label
    bars: list[FunnelBar]


@dataclass(frozen=True)
class Funnel:
    description: str
    width: int
    height: int
    left: int
    steps: list[FunnelStep]


def funnel(steps: Sequence[tuple[str, Sequence[tuple[str, int, int]]]]) -> Funnel:
    """Steps (name, [(variant, count, visitors)]) drawn as one bar per variant, its length the
    share of that variant's visitors who got there (visitors themselves: a full bar)."""
    left = label_column([name for name, _ in steps])
    right = FOREST_WIDTH - 130  # room for the count at the bar's end
    laid, y = [], 0.0
    for name, counts in steps:
        bars = []
        for n, (variant, count, visitors) in enumerate(counts):
            share = count / visitors if visitors > 0 and 0 <= count <= visitors else None
            width = round((right - left) * share, 1) if share is not None else 0.0
            text = f"{count:,} ({share * 100:.1f}%)" if share is not None else f"{count:,}"
            bars.append(FunnelBar(variant, PALETTE[n % len(PALETTE)], y, max(width, 1.0), text))
            y += FUNNEL_BAR + 2
        laid.append(FunnelStep(name, bars[0].y + FUNNEL_BAR / 2 if bars else y, bars))
        y += 10
    summary = "; ".join(
        f"{step.name}: " + ", ".join(f"{bar.variant or 'all'} {bar.label}" for bar in step.bars)
        for step in laid
    )
    return Funnel(f"How far visitors got. {summary}.", FOREST_WIDTH, round(y), left, laid)


def forest_of(report: Report, title: str, bar: float | None = None) -> Forest:
    """The forest plot of a report's conversion intervals, one row per variant; ``bar``: the
    rate the page must clear, drawn as the line to read against."""
    rows = [
        (arm_label(arm.name),
         arm.rate_interval.low if arm.rate_interval else None, arm.rate,
         arm.rate_interval.high if arm.rate_interval else None)
        for arm in report.arms
    ]  # fmt: skip
    return forest(title, rows, lambda v: f"{v * 100:.1f}%", bar)


def funnel_of_steps(steps: Sequence[Step]) -> Funnel:
    """The funnel chart of a page's steps, every variant as a share of its own visitors."""
    visitors = steps[0].counts if steps else {}
    return funnel(
        [(step.name, [(arm_label(name), n, visitors.get(name, 0))
                      for name, n in step.counts.items()])
         for step in steps]
    )  # fmt: skip
