"""Which variant a visitor sees: a hash of experiment and visitor id, sticky without storage.
(What a page's visitors are counted under, its test's phase or the shipped winner, is
kit/tracking/phases.py.)"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

# The pseudo-experiment an embedded form's views and signups count under (kit/visitor/embed.py): a
# key with a space, which no page file can give an experiment.
EMBED = "embedded form"


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
