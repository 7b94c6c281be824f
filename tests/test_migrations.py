"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import requests
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import insert
from sqlalchemy import select

from kit import recount
from kit.models import Conversion
from kit.models import DailySource
from kit.models import Exposure
from kit.models import Signup
from kit.models import db
from kit.models import utcnow
from kit.tracking import counters
from tests.servers import gunicorn


def test_migrations_match_models(app):
    with app.app_context():
        db.drop_all()
        upgrade()
        with db.engine.connect() as connection:
            diff = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert diff == []


def test_release_and_web_commands_serve_the_app(app, database_url, tmp_path):
    """What the Procfile runs: its release step (checks, migration), then gunicorn with only
    env settings."""
    with app.app_context():
        db.drop_all()
    with gunicorn(database_url, tmp_path / "gunicorn.log") as base:
        assert requests.get(f"{base}/healthz").status_code == 200
        page = requests.get(f"{base}/", headers={"User-Agent": "Mozilla/5.0"})
        assert page.status_code == 200
        assert "Tidyday" in page.text


def test_upgrade_counts_visitors_who_signed_up_per_source_as_the_app_does(app):
    """0008 recounts the source counters with its new signed_up column: a visitor still
    waiting to confirm has signed up, not converted; the result is what the app's own
    recount gives."""
    with app.app_context():
        db.drop_all()
        upgrade(revision="0007")
        now = utcnow()
        exposures = [
            {"page": "optin", "experiment": "", "variant": "", "visitor_key": f"v{n}",
             "first_seen": now, "utm_source": "ads" if n < 2 else None, "device": "desktop"}
            for n in range(3)
        ]  # fmt: skip
        db.session.execute(insert(Exposure), exposures)
        ids = db.session.scalars(select(Exposure.id).order_by(Exposure.visitor_key)).all()
        signups = [  # v0 confirmed (converted), v1 waiting, v1 again with a second address
            {"page": "optin", "email": e, "email_key": e, "experiment": "", "variant": "",
             "exposure_id": ids[i], "created_at": now, "confirmed_at": now if i == 0 else None,
             "share_code": e[:8]}
            for i, e in ((0, "a@example.com"), (1, "b@example.com"), (1, "c@example.com"))
        ]  # fmt: skip
        db.session.execute(insert(Signup), signups)
        db.session.execute(insert(Conversion), [
            {"page": "optin", "experiment": "", "variant": "", "exposure_id": ids[0],
             "converted_at": now}
        ])  # fmt: skip
        db.session.commit()
        upgrade()
        counted = _source_rows()
        recount.sources()
        assert counted == _source_rows()
    ads = {row[5]: row[6:] for row in counted if row[4] == "utm_source"}
    assert ads["ads"] == (2, 1, 2)  # visitors, converted, signed up
    assert ads[""] == (1, 0, 0)
    campaigns = {row[5]: row[6:] for row in counted if row[4] == counters.CAMPAIGN}
    assert campaigns == {"ads\x1f": (2, 1, 2), "\x1f": (1, 0, 0)}  # 0010: source and campaign


def _source_rows() -> list[tuple]:
    columns = [*counters.KEY, *counters.COUNTS]
    query = select(*(DailySource.__table__.c[name] for name in columns))
    rows = db.session.execute(query.order_by(*(DailySource.__table__.c[n] for n in counters.KEY)))
    return [tuple(str(v) if i == 3 else v for i, v in enumerate(row)) for row in rows]
