"""Which variant a visitor sees (a hash of experiment and visitor id, sticky without storage),
and what a page's visitors are counted under: its test, the shipped winner, an embed."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from kit.pages.schema import Page

# The pseudo-experiment an embedded form's views and signups count under (kit/visitor/embed.py): a
# key with a space, which no page file can give an experiment.
EMBED = "embedded form"
SHIPPED = " shipped"
KEY_LENGTH = 64  # what the experiment columns hold


def shipped(experiment_key: str) -> str:
    """What a page counts under once its test has a winner: the winner is shown to everyone,
    and visitors, signups, clicks and payments go on being counted here, after the test's own
    numbers (which stay as they were when it ended). One per test ("price-1 shipped"): a key
    no page file can give (it has a space), shortened with a hash to fit the column."""
    if len(experiment_key) + len(SHIPPED) > KEY_LENGTH:
        digest = hashlib.sha256(experiment_key.encode()).hexdigest()[:8]
        experiment_key = f"{experiment_key[: KEY_LENGTH - len(SHIPPED) - 9]}~{digest}"
    return experiment_key + SHIPPED


def counted_under(page: Page) -> str:
    """The experiment a page's new visitors are counted under now: its running test's key,
    its shipped period once the test has a winner, "" without a test."""
    if page.experiment is not None and page.experiment.winner:
        return shipped(page.experiment.key)
    return page.experiment_key


def bucket(experiment_key: str, visitor_id: str) -> float:
    """Map a visitor to a stable number in [0, 1) for one experiment."""
    digest = hashlib.sha256(f"{experiment_key}:{visitor_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def choose_variant(
    weights: Sequence[tuple[str, float]], experiment_key: str, visitor_id: str
) -> str:
    """Pick the variant whose slice of the cumulative weights holds the visitor's bucket."""
    total = sum(weight for _, weight in weights)
    point = bucket(experiment_key, visitor_id) * total
    running = 0.0
    for name, weight in weights:
        running += weight
        if point < running:
            return name
    return weights[-1][0]  # float rounding at the very top of the range
