"""Scheduled statistics reports: monthly and quarterly workbooks for every supervising unit.

``tick`` is what Celery beat runs every few minutes (``jishi.reports_tick``): for each enabled
``ReportSchedule`` whose report for the last complete period is due — ``day`` days after the
period ends, from ``hour`` o'clock — and not yet made for every supervising unit, it runs
``generate``. ``generate`` writes one workbook per supervising unit (a unit with at least one
active 监督员) covering that unit's subtree, stores it under a random name in REPORTS_FOLDER
with its size and SHA-256, and puts a notice in the inbox of each of the unit's active
supervisors.

Everything is idempotent: the database keeps (kind, period, unit) unique for report files and
(recipient, dedup_key) unique for notices, so a second tick, a second manual run or two workers
at once never make a second file or send a second notice.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app import dates
from app.deadlines.due import _insert_ignore
from app.errors import JishiError
from app.extensions import db
from app.infra import stored_files
from app.infra.notify import deliver
from app.infra.task_runs import set_progress, tracked
from app.models import AppUser, Unit
from app.models.audit import utcnow
from app.models.deadlines import Message, ReportFile, ReportSchedule, TaskRun
from app.record.evidence import head_text
from app.reporting.statistics import statistics_table, write_statistics_xlsx

TASK = "reports_generate"
KINDS = {"monthly": "月报", "quarterly": "季报"}
MESSAGE_KIND = "统计报表"
SUPERVISOR_ROLE = "监督员"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# The scoped download route of app/views/reports.py (ReportFileView.file).
DOWNLOAD_LINK = "/reports/file/{id}"


class ReportUnavailable(JishiError):
    """The stored file is missing or no longer matches its recorded SHA-256."""


# ---- periods and the schedule -------------------------------------------------------------------

def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"报表周期应为 monthly（月报）或 quarterly（季报），实际为“{kind}”")


def period_for(kind: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """(start, end) of the last complete month or quarter before ``today``."""
    _check_kind(kind)
    return dates.last_month(today) if kind == "monthly" else dates.last_quarter(today)


def period_containing(kind: str, period_start: dt.date) -> tuple[dt.date, dt.date]:
    """(start, end) of the period that begins on ``period_start``; refuses any other day."""
    _check_kind(kind)
    if period_start.day != 1 or (kind == "quarterly" and period_start.month not in (1, 4, 7, 10)):
        what = "某月 1 日" if kind == "monthly" else "季度首日（1 月、4 月、7 月或 10 月的 1 日）"
        raise ValueError(f"周期起始日应为{what}，实际为 {period_start.isoformat()}")
    return dates.month_of(period_start) if kind == "monthly" else dates.quarter_of(period_start)


def period_label(kind: str, start: dt.date) -> str:
    if kind == "monthly":
        return f"{start.year}年{start.month}月"
    return f"{start.year}年第{(start.month - 1) // 3 + 1}季度"


def due_at(schedule: ReportSchedule, now: dt.datetime) -> dt.datetime:
    """When the report for the last complete period (as of ``now``) becomes due."""
    _, end = period_for(schedule.kind, now.date())
    return dt.datetime.combine(end + dt.timedelta(days=schedule.day), dt.time(schedule.hour))


def due(schedule: ReportSchedule, now: dt.datetime) -> bool:
    """Is the schedule's report for the last complete period due at ``now``?"""
    return bool(schedule.enabled) and now >= due_at(schedule, now)


# ---- who receives what ----------------------------------------------------------------------------

def _active_supervisors():
    from flask_appbuilder.security.sqla.models import Role

    return (select(AppUser.id, AppUser.unit_id).join(AppUser.roles)
            .where(Role.name == SUPERVISOR_ROLE, AppUser.active.is_(True), AppUser.unit_id.is_not(None)))


def supervising_units() -> list[Unit]:
    """Units with at least one active 监督员, in tree order."""
    unit_ids = _active_supervisors().with_only_columns(AppUser.unit_id)
    units = db.session.execute(select(Unit).where(Unit.id.in_(unit_ids.scalar_subquery()))).scalars().all()
    return sorted(units, key=lambda u: u.path.strip("/").split("/"))


def supervisors_of(unit_id: int) -> list[int]:
    stmt = _active_supervisors().where(AppUser.unit_id == unit_id).order_by(AppUser.id)
    return list(dict.fromkeys(user_id for user_id, _ in db.session.execute(stmt)))


def missing_units(kind: str, start: dt.date, end: dt.date) -> list[int]:
    """Supervising units that have no report file for this period yet."""
    have = set(db.session.execute(select(ReportFile.unit_id).where(
        ReportFile.kind == kind, ReportFile.period_start == start, ReportFile.period_end == end)).scalars())
    return [u.id for u in supervising_units() if u.id not in have]


# ---- files ---------------------------------------------------------------------------------------

def reports_dir() -> Path:
    return stored_files.folder()


def stored_path(report: ReportFile) -> Path:
    return reports_dir() / report.storage_key



def verified_path(report: ReportFile) -> Path:
    """The stored file, after checking it is there and unchanged."""
    return stored_files.checked(report.storage_key, report.sha256, ReportUnavailable,
                                missing="报表文件已不存在，请联系系统管理员重新生成",
                                changed="报表文件内容与登记的 SHA-256 不一致，可能已被篡改，请联系系统管理员")


def _display_filename(unit: Unit, kind: str, start: dt.date) -> str:
    name = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "", unit.name).strip() or unit.code
    return f"{name}-{period_label(kind, start)}选人用人工作统计{KINDS[kind]}.xlsx"[:200]


def report_title(kind: str, start: dt.date) -> str:
    return f"干部选拔任用工作统计{KINDS[kind]}（{period_label(kind, start)}）"


def _write_workbook(unit: Unit, kind: str, start: dt.date, end: dt.date) -> tuple[str, int, str]:
    """Write the unit's workbook under a new random name; returns (storage key, size, sha256)."""
    key = uuid.uuid4().hex
    path = reports_dir() / key
    table = statistics_table(unit, start, end)  # the statistics page's own computation (app.queries)
    try:
        # The evidence chain head goes out with every report: a copy outside the system.
        write_statistics_xlsx(str(path), table, title=report_title(kind, start), footer=head_text())
        return key, path.stat().st_size, stored_files.sha256_of(path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


# ---- generation --------------------------------------------------------------------------------

def _existing(kind: str, start: dt.date, end: dt.date, unit_id: int) -> ReportFile | None:
    return db.session.execute(select(ReportFile).where(
        ReportFile.kind == kind, ReportFile.period_start == start, ReportFile.period_end == end,
        ReportFile.unit_id == unit_id)).scalar_one_or_none()


def _store(unit: Unit, kind: str, start: dt.date, end: dt.date, run_id: int | None) -> ReportFile | None:
    """Write and register the unit's workbook; None when another run registered it first."""
    key, size, sha = _write_workbook(unit, kind, start, end)
    report = ReportFile(kind=kind, period_start=start, period_end=end, unit_id=unit.id,
                        filename=_display_filename(unit, kind, start), storage_key=key, size=size,
                        sha256=sha, created_at=utcnow(), task_run_id=run_id)
    try:
        with db.session.begin_nested():  # the unique (kind, period, unit) key decides who wins
            db.session.add(report)
    except IntegrityError:
        (reports_dir() / key).unlink(missing_ok=True)
        return None
    except BaseException:
        (reports_dir() / key).unlink(missing_ok=True)
        raise
    return report


def _notify(report: ReportFile, unit: Unit) -> list[int]:
    """One inbox notice per active supervisor of the unit (never twice: dedup_key); new ids."""
    recipients = supervisors_of(report.unit_id)
    if not recipients:
        return []
    label = f"{period_label(report.kind, report.period_start)}{KINDS[report.kind]}"
    rows = [{
        "recipient_id": user_id, "unit_id": report.unit_id, "kind": MESSAGE_KIND,
        "title": f"统计报表已生成：{unit.name} {label}",
        "body": (f"{unit.name}（含下级单位）{report.period_start.isoformat()} 至 {report.period_end.isoformat()}"
                 f"的选人用人工作统计{KINDS[report.kind]}已生成，请下载查阅。"),
        "link": DOWNLOAD_LINK.format(id=report.id), "dedup_key": f"report:{report.id}", "created_at": utcnow(),
    } for user_id in recipients]
    stmt = _insert_ignore(Message.__table__).values(rows).returning(Message.__table__.c.id)
    return list(db.session.execute(stmt).scalars())


def _report_for_unit(unit: Unit, kind: str, start: dt.date, end: dt.date, run_id: int) -> tuple[bool, list[int]]:
    """Make (unless made) and circulate one unit's report in one transaction: (created?, new message ids)."""
    report = _existing(kind, start, end, unit.id)
    created = False
    try:
        if report is None:
            report = _store(unit, kind, start, end, run_id)
            created = report is not None
            if report is None:
                report = _existing(kind, start, end, unit.id)
        ids = _notify(report, unit) if report is not None else []
        db.session.commit()
    except BaseException:
        db.session.rollback()
        if created:
            stored_path(report).unlink(missing_ok=True)
        raise
    return created, ids


def _resolve_period(kind: str, period_start: dt.date | None) -> tuple[dt.date, dt.date]:
    if period_start is None:
        return period_for(kind, dt.date.today())
    return period_containing(kind, period_start)


def generate(kind: str, period_start: dt.date | None = None, triggered_by: str | None = None) -> dict:
    """Make the kind's report for the period (default: the last complete one) for every
    supervising unit that has none yet, and notify the supervisors. Returns the counts."""
    start, end = _resolve_period(kind, period_start)
    counts = {"kind": kind, "period_start": start.isoformat(), "period_end": end.isoformat(),
              "units": 0, "created": 0, "existing": 0, "messages": 0}
    message_ids = []
    with tracked(TASK, triggered_by) as run:
        run_id = run.id
        units = supervising_units()
        counts["units"] = len(units)
        for n, unit in enumerate(units, start=1):
            created, ids = _report_for_unit(unit, kind, start, end, run_id)
            counts["created" if created else "existing"] += 1
            counts["messages"] += len(ids)
            message_ids += ids
            set_progress(run_id, n * 100 // len(units))
        db.session.get(TaskRun, run_id).counts = dict(counts)
    deliver(message_ids)  # e-mail copies, when configured, after the commit
    return {**counts, "task_run": run_id}


def tick(now: dt.datetime | None = None) -> dict:
    """Generate every enabled schedule's report that is due and not yet made for every supervising unit."""
    now = now or dt.datetime.now()
    generated = {}
    schedules = db.session.execute(
        select(ReportSchedule).where(ReportSchedule.enabled.is_(True)).order_by(ReportSchedule.kind)).scalars().all()
    for schedule in schedules:
        if schedule.kind not in KINDS or not due(schedule, now):
            continue
        start, end = period_for(schedule.kind, now.date())
        if missing_units(schedule.kind, start, end):
            generated[schedule.kind] = generate(schedule.kind, start, triggered_by="定时任务")
    return {"checked_at": now.isoformat(timespec="minutes"), "generated": generated}


def schedules() -> list[dict]:
    """Every schedule with its last period, when that is due and how many units have it."""
    now = dt.datetime.now()
    out = []
    for s in db.session.execute(select(ReportSchedule).order_by(ReportSchedule.kind)).scalars():
        row = {"kind": s.kind, "label": KINDS.get(s.kind, s.kind), "enabled": s.enabled, "day": s.day, "hour": s.hour}
        if s.kind in KINDS:
            start, end = period_for(s.kind, now.date())
            row.update(period_start=start.isoformat(), period_end=end.isoformat(),
                       due_at=due_at(s, now).isoformat(timespec="minutes"),
                       missing_units=len(missing_units(s.kind, start, end)))
        out.append(row)
    return out
