"""New visitors counted per network address, capped: one client can't make its own sample.

A script that drops its cookie on every request is a new visitor each time: 200 cookieless
GETs in 0.7 s added 200 visitors, under whatever ``utm_source`` it wrote, and moved cost per
visitor and conversion. So each network address counts at most ``NEW_VISITORS_PER_ADDRESS``
new visitors per clock hour (0 turns the cap off). A visitor over the cap is served the page
as usual, just not counted: their signup is on the list, unattributed.

The address is an HMAC under SECRET_KEY (kit/security.py, ``network_key``; an IPv6 address
counts by its /64, which one device can fill at will), counted in the ``rate_limit`` table
whatever stores the other limits, under a key per address and hour, in the transaction that
writes the visitors: one statement per batch of new visitors, never on the page view itself.
Only rows that went in count (a visitor's row written by their signup and again by the page
view's batch counts once); those over the cap are taken out again before anything is added
to the daily counters.
"""

from __future__ import annotations

import time
from collections import Counter

from flask import current_app
from sqlalchemy import Connection
from sqlalchemy import Row
from sqlalchemy import delete

from kit.models import Exposure
from kit.models import RateLimit
from kit.ratelimit_storage import clean_up
from kit.writes import dialect_insert

NETWORK = "network"  # the key of a visitor's row that names its network (not a column)
HOUR = 3600
CLEAN_UP_EVERY = 200  # about once in this many batches, the hours that ended are deleted


def admit(connection: Connection, added: list[Row], networks: list[str | None]) -> list[Row]:
    """Of the exposures just inserted (with each one's network), those to count: all of them
    with the cap off, else those within their network's cap this hour, in order. The others
    are deleted again, in the same transaction: the visitor was served, not counted."""
    cap = current_app.config.get("NEW_VISITORS_PER_ADDRESS") or 0
    if cap <= 0 or not any(networks):
        return added
    now = time.time()
    hour = int(now // HOUR)
    wanted = Counter(network for network in networks if network)
    totals = _add(connection, hour, wanted)
    clean_up(connection, now, CLEAN_UP_EVERY)
    # Of a network's new visitors in this batch, the first ones up to what the cap still allowed.
    room = {network: cap - (totals[network] - n) for network, n in wanted.items()}
    kept, refused = [], []
    for row, network in zip(added, networks, strict=True):
        if network:
            room[network] -= 1
        (refused if network and room[network] < 0 else kept).append(row)
    if refused:
        table = Exposure.__table__
        connection.execute(delete(table).where(table.c.id.in_([row.id for row in refused])))
    return kept


def _add(connection: Connection, hour: int, wanted: Counter) -> dict[str, int]:
    """Add each network's new visitors to its count for ``hour``; the counts after."""
    table = RateLimit.__table__
    keys = {f"new visitors {network} {hour}": network for network in wanted}
    upsert = dialect_insert(connection.dialect.name)(table).values(
        [{"key": key, "hits": wanted[network], "expires_at": (hour + 1) * HOUR}
         for key, network in sorted(keys.items())]  # in key order: two writers never wait in turn
    )  # fmt: skip
    statement = upsert.on_conflict_do_update(
        index_elements=["key"], set_={"hits": table.c.hits + upsert.excluded.hits}
    ).returning(table.c.key, table.c.hits)
    return {keys[key]: hits for key, hits in connection.execute(statement)}
