"""Before the test: the smallest lift a test can detect with the page's own traffic.

A founder with 100 visitors a day at a 5 % signup rate cannot find a +10 % lift in a month,
and should know before spending the month. For 7, 14 and 28 days at the page's visitors per
day (the last week's), split as the page file says, this gives the smallest relative lift over
the control's current rate that a two-sided test at ``ALPHA`` finds with ``POWER`` — the
normal approximation on the arcsine scale (Cohen's h; Lehr's rule n ≈ 16 / h² per arm is its
special case), the same as statsmodels' ``NormalIndPower``, which the tests check it against.

The always-valid test that names winners pays for being readable every day with somewhat
more visitors than this fixed-length test, so these lifts are the best case: a lift smaller
than the one shown will not be found in that time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from kit.reports.stats import ALPHA
from kit.reports.stats import NORMAL
from kit.reports.stats import POWER

HORIZONS = (7, 14, 28)  # days


@dataclass(frozen=True)
class Detectable:
    """In ``days`` days: visitors of the control and of the smallest other arm, and the
    smallest relative lift found (None: none can be, with this traffic or rate)."""

    days: int
    control: int
    variant: int
    lift: float | None


def smallest_lift(
    rate: float, control: float, variant: float, alpha: float = ALPHA, power: float = POWER
) -> float | None:
    """The smallest relative lift over ``rate`` a two-sided test at ``alpha`` detects with
    ``power``, with ``control`` and ``variant`` visitors; None when no rate up to 100 % is
    detectable or there is nothing to go on."""
    if not 0 < rate < 1 or control <= 0 or variant <= 0:
        return None
    h = (NORMAL.inv_cdf(1 - alpha / 2) + NORMAL.inv_cdf(power)) * math.sqrt(
        1 / control + 1 / variant
    )
    angle = math.asin(math.sqrt(rate)) + h / 2
    if angle >= math.pi / 2:
        return None
    return math.sin(angle) ** 2 / rate - 1


def detectable(rate: float | None, per_day: float, weights: Sequence[float]) -> list[Detectable]:
    """For each of ``HORIZONS``: what a test at ``per_day`` visitors, split by ``weights``
    (control first; a page without a test: two even arms) detects over ``rate``."""
    shares = [w for w in weights if w > 0]
    if len(shares) < 2:
        shares = [1.0, 1.0]
    total = sum(shares)
    control, smallest = shares[0] / total, min(shares[1:]) / total
    found = []
    for days in HORIZONS:
        visitors = max(per_day, 0.0) * days
        n1, n2 = visitors * control, visitors * smallest
        lift = smallest_lift(rate, n1, n2) if rate is not None else None
        found.append(Detectable(days, math.floor(n1), math.floor(n2), lift))
    return found
