"""source and campaign counted together: the source counters get the dimension
"source/campaign", so an ad spend entry naming a campaign counts the visitors of its source
and campaign, not every source's visitors of that campaign

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 09:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

# A frozen copy of the recount of one dimension (kit/recount.py, 2026-12-05): visitors by the
# day first seen, converted visitors by the day of their conversion, signed-up visitors by the
# day of their first signup.
BACKFILL = """
INSERT INTO daily_sources (page, experiment, variant, day, dimension, value, visitors,
                          converted, signed_up)
SELECT page, experiment, variant, day, 'source/campaign', value, SUM(v), SUM(c), SUM(s)
FROM (
    SELECT e.page, e.experiment, e.variant, date(e.first_seen) AS day,
           COALESCE(e.utm_source, '') || :sep || COALESCE(e.utm_campaign, '') AS value,
           1 AS v, 0 AS c, 0 AS s
    FROM exposure e
    UNION ALL
    SELECT e.page, e.experiment, e.variant, date(k.converted_at),
           COALESCE(e.utm_source, '') || :sep || COALESCE(e.utm_campaign, ''), 0, 1, 0
    FROM exposure e JOIN conversion k ON k.exposure_id = e.id
    UNION ALL
    SELECT e.page, e.experiment, e.variant, date(f.at),
           COALESCE(e.utm_source, '') || :sep || COALESCE(e.utm_campaign, ''), 0, 0, 1
    FROM exposure e JOIN (
        SELECT exposure_id, MIN(created_at) AS at FROM signup
        WHERE exposure_id IS NOT NULL GROUP BY exposure_id
    ) f ON f.exposure_id = e.id
) AS counted
GROUP BY page, experiment, variant, day, value
"""


def upgrade():
    op.execute(sa.text("DELETE FROM daily_sources WHERE dimension = 'source/campaign'"))
    op.get_bind().execute(sa.text(BACKFILL), {"sep": "\x1f"})


def downgrade():
    op.execute(sa.text("DELETE FROM daily_sources WHERE dimension = 'source/campaign'"))
