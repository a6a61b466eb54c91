"""The supervisor's commands on an alarm: 叫停纠偏 (the case goes back to its unit as a new version
to correct) and 核实无误 (the hit was checked and stands). Each validates before writing and owns its
transaction; the case's derived state follows in the same transaction."""
from __future__ import annotations

import datetime as dt

from app.alarms import derived
from app.alarms.state import AlarmError, check_supervisor, move
from app.extensions import db
from app.models import Case
from app.models.case import STATUS_FIRST, STATUS_SECOND
from app.models.rules import ALARM_CLOSED, ALARM_DISMISSED, ALARM_HALTED, ALARM_RAISED, Alarm
from app.workflow.submission import return_for_correction

__all__ = ["AlarmError", "dismiss", "halt"]


def halt(alarm: Alarm, user, reason: str, deadline: dt.date) -> Case:
    """叫停纠偏: the case goes back to its unit (a new version to correct) with a reason and a deadline."""
    check_supervisor(alarm, user)
    if alarm.case_id is None:  # 应报未报: a document no case was reported for — nothing to send back
        raise AlarmError("该报警（应报未报）没有对应的报送案例，不能叫停纠偏；请督促单位补报，核实后可“核实无误”关闭")
    if alarm.status != ALARM_RAISED:
        raise AlarmError(f"报警当前状态为“{alarm.status}”，不能叫停")
    reason = (reason or "").strip()
    if not reason:
        raise AlarmError("请写明叫停的原因")
    if deadline <= dt.date.today():
        raise AlarmError("整改期限应晚于今天")
    case = db.session.get(Case, alarm.case_id)
    if not case.is_current:
        raise AlarmError(f"报警所涉案例的第 {case.version_no} 版已被新版本取代，不能再叫停纠偏")
    if case.status not in (STATUS_FIRST, STATUS_SECOND):
        # e.g. a T01 alarm on a draft never reported: there is no report to send back
        raise AlarmError(f"案例当前状态为“{case.status}”，尚未报送，不能叫停纠偏；请督促单位报送")
    # The alarm's change rides in the same transaction as the return (committed by it, or rolled back).
    alarm.correction_deadline = deadline
    move(alarm, ALARM_HALTED, user, reason)
    return return_for_correction(case, user, f"叫停纠偏：{reason}（整改期限 {deadline.isoformat()}）",
                                 kind="叫停纠偏", deadline=deadline, told=reason)


def dismiss(alarm: Alarm, user, reason: str) -> None:
    """核实无误: the hit was checked and stands (e.g. an approved 破格); written reason required."""
    check_supervisor(alarm, user)
    if alarm.status != ALARM_RAISED:
        raise AlarmError(f"报警当前状态为“{alarm.status}”，不能核实销号")
    if not (reason or "").strip():
        raise AlarmError("请写明核实无误的依据")
    try:
        move(alarm, ALARM_DISMISSED, user, reason)
        move(alarm, ALARM_CLOSED, user, "核实无误，关闭")
        case = db.session.get(Case, alarm.case_id) if alarm.case_id is not None else None
        if case is not None and case.is_current:
            derived.derive(case)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
