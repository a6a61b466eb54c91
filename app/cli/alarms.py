"""`flask alarms`: list alarms and halt a case (叫停纠偏) as the alarm page does."""
from __future__ import annotations

import sys

import click
from sqlalchemy import select

from app.audit import acting_as
from app.cli.common import JishiGroup, echo_rows, parse_date, user_scope
from app.extensions import db
from app.models import Alarm, Unit
from app.record.data import CaseError
from app.scoping import Scope
from app.supervision.alarm_actions import AlarmError, halt

alarms_cli = JishiGroup("alarms", help="报警")


@alarms_cli.command("list")
@click.option("--unit", "unit_code", default=None, help="单位代码（含下级单位）")
@click.option("--status", default=None, help="状态：已报警/已叫停/核实无误/已整改/已关闭")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def alarms_list(unit_code: str | None, status: str | None, as_json: bool):
    """列出报警。"""
    query = select(Alarm).order_by(Alarm.id)
    if unit_code:
        unit = db.session.execute(select(Unit).where(Unit.code == unit_code)).scalar_one_or_none()
        if unit is None:
            raise click.ClickException(f"单位代码“{unit_code}”不存在")
        query = query.where(Scope("subtree", unit.id, unit.path).clause(Alarm.unit_id))
    if status:
        query = query.where(Alarm.status == status)
    rows = db.session.execute(query).scalars().all()
    data = [{"id": a.id, "case_id": a.case_id, "code": a.codes, "severity": "red", "status": a.status,
             "raised_at": a.raised_at.isoformat(timespec="seconds"), "unit": a.unit.code, "message": a.message}
            for a in rows]
    echo_rows(data, as_json, lambda a: f"#{a['id']}\t{a['status']}\t{a['unit']}\t"
                                       f"{'应报未报（无案例）' if a['case_id'] is None else '案例' + str(a['case_id'])}\t{a['code']}")


@alarms_cli.command("halt")
@click.argument("alarm_id", type=int)
@click.option("--reason", required=True, help="叫停的原因")
@click.option("--deadline", required=True, help="整改期限 YYYY-MM-DD（须晚于今天）")
@click.option("--as-user", "as_user", required=True, help="执行叫停的监督员用户名")
def alarms_halt(alarm_id: int, reason: str, deadline: str, as_user: str):
    """叫停纠偏（与报警页面的“叫停纠偏”相同）：案例退回补正为新版本，附原因与整改期限。"""
    day = parse_date(deadline, "--deadline")
    user, _scope = user_scope(as_user)
    alarm = db.session.get(Alarm, alarm_id)
    if alarm is None:
        click.echo(f"报警 #{alarm_id} 不存在", err=True)
        sys.exit(1)
    try:
        with acting_as(user, "cli"):
            new = halt(alarm, user, reason, day)
    except (AlarmError, CaseError) as exc:
        db.session.rollback()
        click.echo(f"叫停失败：{exc}", err=True)
        sys.exit(1)
    click.echo(f"已叫停报警 #{alarm_id}：案例 {new.case_no} 已退回补正（第 {new.version_no} 版），整改期限 {day.isoformat()}")
