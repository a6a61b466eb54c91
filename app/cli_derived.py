"""`flask cases list` and `flask alarms halt`: what the case list and the alarm page's 叫停纠偏 give,
for scripts and tests."""
from __future__ import annotations

import sys

import click
from sqlalchemy import select

from app.audit import acting_as
from app.cli import _echo_json, _user_scope, alarms_cli, cases_cli, parse_date
from app.extensions import db


@cases_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--as-user", "as_user", default=None, help="只列出该用户权限范围内的案例（默认：全部）")
def cases_list(as_json: bool, as_user: str | None):
    """列出现行版本的案例：编号、版本、状态、灯、单位代码、讨论决定日期。"""
    from app.models import Batch, Case, Unit

    _user, scope = _user_scope(as_user)
    rows = db.session.execute(
        select(Case.id, Case.case_no, Case.version_no, Case.status, Case.light, Unit.code, Batch.decision_date)
        .join(Unit, Unit.id == Case.unit_id).outerjoin(Batch, Batch.id == Case.batch_id)
        .where(Case.is_current.is_(True), scope.clause(Case.unit_id)).order_by(Case.id)).all()
    data = [{"id": r[0], "case_no": r[1], "version": r[2], "status": r[3], "light": r[4], "unit": r[5],
             "decision_date": r[6].isoformat() if r[6] else None} for r in rows]
    if as_json:
        _echo_json(data)
        return
    for r in data:
        click.echo(f"#{r['id']}\t{r['case_no']}\t第{r['version']}版\t{r['status']}\t{r['light'] or ''}\t{r['unit']}"
                   f"\t{r['decision_date'] or ''}")


@alarms_cli.command("halt")
@click.argument("alarm_id", type=int)
@click.option("--reason", required=True, help="叫停的原因")
@click.option("--deadline", required=True, help="整改期限 YYYY-MM-DD（须晚于今天）")
@click.option("--as-user", "as_user", required=True, help="执行叫停的监督员用户名")
def alarms_halt(alarm_id: int, reason: str, deadline: str, as_user: str):
    """叫停纠偏（与报警页面的“叫停纠偏”相同）：案例退回补正为新版本，附原因与整改期限。"""
    from app.models import Alarm
    from app.services.alarm_actions import AlarmError, halt
    from app.services.case_data import CaseError

    day = parse_date(deadline, "--deadline")
    user, _scope = _user_scope(as_user)
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
