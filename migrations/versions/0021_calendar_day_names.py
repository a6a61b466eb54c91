"""calendar: each holiday by its name (春节, 国庆节 …) instead of 法定节假日 for all

Revision ID: 0021
Revises: 0018
Create Date: 2026-12-05

The days copied from the chinese_calendar package were all named 法定节假日 (or 调休上班); the package
knows each day's holiday. Only the package's rows with the old generic names change; an administrator's
rows and names are kept.
"""
import chinese_calendar
import sqlalchemy as sa
from alembic import op

revision = "0021"
down_revision = "0018"
branch_labels = None
depends_on = None

calendar_day = sa.table("calendar_day", sa.column("id", sa.Integer), sa.column("day", sa.Date),
                        sa.column("working", sa.Boolean), sa.column("name", sa.String), sa.column("source", sa.String))


def _name(day, working):
    english = (chinese_calendar.workdays if working else chinese_calendar.holidays).get(day)
    chinese = next((h.chinese for h in chinese_calendar.Holiday if h.value == english), None)
    if not chinese:
        return None
    return f"{chinese}调休上班" if working else chinese


def upgrade():
    conn = op.get_bind()
    rows = conn.execute(sa.select(calendar_day.c.id, calendar_day.c.day, calendar_day.c.working).where(
        calendar_day.c.source == "package", calendar_day.c.name.in_(("法定节假日", "调休上班")))).all()
    for row_id, day, working in rows:
        name = _name(day, bool(working))
        if name:
            conn.execute(calendar_day.update().where(calendar_day.c.id == row_id).values(name=name))


def downgrade():
    conn = op.get_bind()
    conn.execute(calendar_day.update().where(calendar_day.c.source == "package", calendar_day.c.working.is_(True))
                 .values(name="调休上班"))
    conn.execute(calendar_day.update().where(calendar_day.c.source == "package", calendar_day.c.working.is_(False))
                 .values(name="法定节假日"))
