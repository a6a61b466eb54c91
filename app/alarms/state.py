"""The alarm state machine: 已报警 → 已叫停 → 已整改 → 已关闭, 已报警 → 核实无误 → 已关闭, each move an
``AlarmEvent`` with who and why. Below the services that change cases: it reads and writes alarms only.
The commands a supervisor gives (叫停纠偏, 核实无误) are in ``alarm_actions``."""
from __future__ import annotations

from sqlalchemy import select

from app.audit import current_actor
from app.errors import JishiError
from app.extensions import db
from app.models.audit import utcnow
from app.models.rules import ALARM_CLOSED, ALARM_CORRECTED, ALARM_HALTED, ALARM_RAISED, Alarm, AlarmEvent, EvaluationRun
from app.scoping import scope_for

OPEN = (ALARM_RAISED, ALARM_HALTED)


class AlarmError(JishiError):
    pass


def move(alarm: Alarm, to_status: str, actor, reason: str | None) -> None:
    who = current_actor()
    db.session.add(AlarmEvent(alarm_id=alarm.id, unit_id=alarm.unit_id, from_status=alarm.status, to_status=to_status,
                              actor_id=getattr(actor, "id", None) or (who.user_id if who else None),
                              actor_name=getattr(actor, "username", None) or (who.name if who else "系统"),
                              reason=reason))
    alarm.status = to_status
    if to_status == ALARM_CLOSED:
        alarm.closed_at = utcnow()


def check_supervisor(alarm: Alarm, user) -> None:
    roles = {r.name for r in getattr(user, "roles", [])}
    if not roles & {"监督员", "系统管理员"} or not scope_for(user).contains(alarm.unit_id):
        raise AlarmError("只有该单位的监督部门可以处理报警")


def after_submission(case, run: EvaluationRun, red_hits) -> None:
    """At a submission: settle what a corrected version no longer breaks, raise one alarm on new reds."""
    codes = {h.code for h in red_hits}
    for alarm in db.session.execute(select(Alarm).where(Alarm.root_id == case.root_id, Alarm.status.in_(OPEN),
                                                        Alarm.case_id != case.id)).scalars():
        if not set(alarm.codes.split(",")) & codes:
            move(alarm, ALARM_CORRECTED, None, f"整改后重新评估（第 {case.version_no} 版）未再触发")
            move(alarm, ALARM_CLOSED, None, "整改完成，自动关闭")
    if red_hits:
        db.session.add(Alarm(
            case_id=case.id, root_id=case.root_id, unit_id=case.unit_id, run_id=run.id, point=run.point,
            codes=",".join(h.code for h in red_hits), message="；".join(f"{h.code} {h.message}" for h in red_hits),
            status=ALARM_RAISED,
        ))


def open_deadline_alarms(root_id: int) -> list[Alarm]:
    return db.session.execute(
        select(Alarm).where(Alarm.root_id == root_id, Alarm.dedup_key.like(f"deadline:{root_id}:%"),
                            Alarm.status.in_(OPEN))).scalars().all()


def deadline_alarm_stands(alarm: Alarm, rows: dict) -> bool:
    """A T01/T02 alarm stands while its node keeps that due date and is still unreported and late."""
    _, _, node, due = alarm.dedup_key.split(":", 3)
    row = rows.get(int(node))
    return row is not None and row.due_date.isoformat() == due and row.submitted_on is None \
        and row.status in ("逾期", "未报")


def close_stale_deadline_alarms(root_id: int, rows: dict) -> None:
    """Deadline alarms that no longer stand: reported since, the due date moved, or not late any more."""
    for alarm in open_deadline_alarms(root_id):
        if deadline_alarm_stands(alarm, rows):
            continue
        row = rows.get(int(alarm.dedup_key.split(":", 3)[2]))
        if row is not None and row.submitted_on is not None:
            reason = f"已于 {row.submitted_on.isoformat()} {row.node_label}" + (
                f"（逾期 {row.days_late} 天，逾期提交由提交时的规则评估记录）" if row.days_late else "")
        else:
            reason = "讨论决定或任职日期已更改，期限重新计算"
        move(alarm, ALARM_CLOSED, None, reason)
