"""A test's phases, and what a page counts under now.

Editing a running variant's content (its own or the base content it inherits) or the split
starts a new phase: visitors, signups, clicks and payments from then on are counted on their
own, and the earlier phase's numbers stay readable as they were. Pooling two headlines under
one name would make the test's verdict about neither.

Each phase is a row (page, test key, number) holding a snapshot of the variants: their shares
of traffic and a hash of each content field, so the dashboard can say what changed and when.
Phase 1 counts under the test's own key, phase n under "<key> phase n" (a key no page file can
give). Which variant a visitor sees still hashes the test's own key, so an edit alone moves no
one to another arm.

A web process asks the database once per loaded page file (``fastpath.kept_while``; every
request with the fast path off): the first request that sees new content adds the phase, the unique
constraint keeps one when workers race, and every process serving that content counts in it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from dataclasses import fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import select

from kit import fastpath
from kit.models import ExperimentPhase
from kit.models import db
from kit.models import utcnow
from kit.pages.schema import Content
from kit.pages.schema import Experiment
from kit.pages.schema import Page
from kit.writes import dialect_insert

SHIPPED = " shipped"
PHASE = " phase "
KEY_LENGTH = 64  # what the experiment columns hold


@dataclass(frozen=True)
class Phase:
    """One phase of a test, as the dashboard tells it."""

    number: int
    key: str  # what its numbers are counted under
    started_at: datetime
    change: str  # what changed from the phase before ("" for the first)
    shares: dict[str, float]  # each variant's share of traffic, control first


def _suffixed(experiment_key: str, suffix: str) -> str:
    """``experiment_key`` + ``suffix``, the key shortened with a hash to fit the column."""
    if len(experiment_key) + len(suffix) > KEY_LENGTH:
        digest = hashlib.sha256(experiment_key.encode()).hexdigest()[:8]
        experiment_key = f"{experiment_key[: KEY_LENGTH - len(suffix) - 9]}~{digest}"
    return experiment_key + suffix


def shipped(experiment_key: str) -> str:
    """What a page counts under once its test has a winner: the winner is shown to everyone,
    and visitors, signups, clicks and payments go on being counted here, after the test's own
    numbers (which stay as they were when it ended). One per test ("price-1 shipped")."""
    return _suffixed(experiment_key, SHIPPED)


def phase_key(experiment_key: str, number: int) -> str:
    """What phase ``number`` of a test counts under: the test's key for the first."""
    return experiment_key if number == 1 else _suffixed(experiment_key, f"{PHASE}{number}")


def snapshot(experiment: Experiment) -> dict[str, Any]:
    """What a phase is made of: each variant's share of traffic and a hash of each of its
    content fields (control first)."""
    total = sum(v.weight for v in experiment.variants)
    return {
        "shares": {v.name: round(v.weight / total, 6) for v in experiment.variants},
        "fields": {
            v.name: {f.name: _digest(getattr(v.content, f.name)) for f in fields(Content)}
            for v in experiment.variants
        },
    }


def _digest(value: object) -> str:
    return hashlib.sha256(repr(value).encode()).hexdigest()[:12]


def changes(before: dict[str, Any], after: dict[str, Any]) -> str:
    """What changed from one snapshot to the next, in words: "b: headline, pricing changed;
    split a 50 %, b 50 % → a 70 %, b 30 %"."""
    old, new = before["fields"], after["fields"]
    said = []
    for name, hashes in new.items():
        if name not in old:
            said.append(f"{name} added")
            continue
        edited = [field for field, digest in hashes.items() if old[name].get(field) != digest]
        if edited:
            said.append(f"{name}: {', '.join(edited)} changed")
    said += [f"{name} removed" for name in old if name not in new]
    if before["shares"] != after["shares"]:
        said.append(f"split {_split(before['shares'])} → {_split(after['shares'])}")
    return "; ".join(said)


def _split(shares: dict[str, float]) -> str:
    return ", ".join(f"{name} {share * 100:.0f} %" for name, share in shares.items())


def counted_under(page: Page) -> str:
    """The key a page's new visitors are counted under now: its test's current phase, its
    shipped period once the test has a winner, "" without a test."""
    if page.experiment is not None and page.experiment.winner:
        return shipped(page.experiment.key)
    return current_phase(page)


def current_phase(page: Page) -> str:
    """The key of the test's latest phase ("" without a test): where it counts while it
    runs, and its result once it has a winner."""
    experiment = page.experiment
    if experiment is None:
        return ""
    return fastpath.kept_while(
        experiment, f"phase {page.slug}", lambda: _current(page.slug, experiment)
    )


def _current(slug: str, experiment: Experiment) -> str:
    with db.engine.begin() as connection:
        return phase_key(experiment.key, _phase_of(connection, slug, experiment))


def _phase_of(connection: Connection, slug: str, experiment: Experiment) -> int:
    """The number of the phase this content counts in: the latest phase, or a new one when
    the running test's variants differ from it."""
    now = snapshot(experiment)
    for _ in range(3):  # another worker may add a phase between the read and the insert
        latest = _latest(connection, slug, experiment.key)
        if latest is not None and (not experiment.running or json.loads(latest.snapshot) == now):
            return latest.number
        number = latest.number + 1 if latest is not None else 1
        change = changes(json.loads(latest.snapshot), now) if latest is not None else ""
        added = connection.execute(
            dialect_insert(connection.dialect.name)(ExperimentPhase.__table__)
            .values(page=slug, experiment=experiment.key, number=number, started_at=utcnow(),
                    snapshot=json.dumps(now), change=change)
            .on_conflict_do_nothing()
            .returning(ExperimentPhase.__table__.c.number)
        ).first()  # fmt: skip
        if added is not None:
            return number
    return _latest(connection, slug, experiment.key).number


def _latest(connection: Connection, slug: str, experiment_key: str) -> Any:
    table = ExperimentPhase.__table__
    return connection.execute(
        select(table.c.number, table.c.snapshot)
        .where(table.c.page == slug, table.c.experiment == experiment_key)
        .order_by(table.c.number.desc())
        .limit(1)
    ).first()


def periods_of(page: Page) -> list[str]:
    """What the page has counted under, latest first: its shipped period once the test has a
    winner, then the test's phases; [""] without a test. Only reads, so it is safe in a
    request that has written already (a payment being booked)."""
    experiment = page.experiment
    if experiment is None:
        return [""]
    periods = [phase.key for phase in phases_of(page)]
    return [shipped(experiment.key), *periods] if experiment.winner else periods


def phases_of(page: Page) -> list[Phase]:
    """The phases of the page's test, latest first (none without a test, or before its first
    counted visitor)."""
    if page.experiment is None:
        return []
    rows = db.session.scalars(
        select(ExperimentPhase)
        .where(ExperimentPhase.page == page.slug, ExperimentPhase.experiment == page.experiment.key)
        .order_by(ExperimentPhase.number.desc())
    )
    return [
        Phase(row.number, phase_key(row.experiment, row.number), row.started_at, row.change,
              json.loads(row.snapshot)["shares"])
        for row in rows
    ]  # fmt: skip
