"""`flask deadlines …`, `flask tasks …` and `flask reports schedule/generate`: the scheduled work, by hand."""
from __future__ import annotations

import click
from sqlalchemy import select

from app.audit import acting_as
from app.cli.common import JishiGroup, echo_json, echo_rows, parse_date
from app.extensions import db
from app.models import Case, CaseDeadline, TaskRun
from app.tasks.deadlines import run_scan
from app.tasks.rules import run_rederive

deadlines_cli = JishiGroup("deadlines", help="报送时限")
tasks_cli = JishiGroup("tasks", help="后台任务运行记录")


@deadlines_cli.command("scan")
@click.option("--as-of", "as_of", default=None,
              help="按该日期扫描（YYYY-MM-DD，默认今天）；不是今天时只计算并显示该日会发生什么，不写入任何数据")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def scan_cmd(as_of: str | None, as_json: bool):
    """同步执行一次时限扫描：标记逾期、发出报警与提醒。只统计本次新产生的标记与消息。
    --as-of 指定其他日期时只读：显示该日的扫描结果，不写入。"""
    result = run_scan(parse_date(as_of, "--as-of"))
    if as_json:
        echo_json(result)
        return
    note = "" if result["written"] else "（仅计算，未写入）"
    click.echo(f"扫描日期 {result['as_of']}{note}：新标记逾期 {result['flagged']} 个节点，新发送消息 {result['sent']} 条"
               f"（到期提醒 {result['reminders']}、逾期通知 {result['overdue']}、未报通知 {result['missing']}），"
               f"更新状态 {result['updated']} 条")


@deadlines_cli.command("refresh")
def refresh_cmd():
    """按现行参数与工作日历重新推导全部在办案例的报送期限、评估与灯（修改日历或参数后使用）。"""
    with acting_as("命令行", "cli"):
        result = run_rederive(reason="命令行重新计算")
    click.echo(f"已重新推导 {result['evaluated']} 个案例（报送期限、评估与灯）")


@deadlines_cli.command("list")
@click.option("--status", default=None, help="未到期/按时/逾期/未报")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def list_cmd(status: str | None, as_json: bool):
    """列出报送期限。"""
    q = select(CaseDeadline, Case.case_no, Case.full_name).join(Case, Case.id == CaseDeadline.case_id).order_by(
        CaseDeadline.due_date, CaseDeadline.id)
    if status:
        q = q.where(CaseDeadline.status == status)
    data = [{"case_no": no, "name": name, "node": d.node_label, "anchor": d.anchor_date.isoformat(),
             "due": d.due_date.isoformat(), "day_type": d.day_type, "status": d.status, "days_late": d.days_late,
             "submitted_on": d.submitted_on.isoformat() if d.submitted_on else None}
            for d, no, name in db.session.execute(q).all()]
    echo_rows(data, as_json, lambda r: f"{r['case_no']}\t{r['name'] or ''}\t{r['node']}\t期限 {r['due']}\t{r['status']}"
                                       + (f"\t逾期 {r['days_late']} 天" if r["days_late"] else ""))


@tasks_cli.command("list")
@click.option("--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def tasks_list(limit: int, as_json: bool):
    """最近的后台任务运行记录。"""
    rows = db.session.execute(select(TaskRun).order_by(TaskRun.id.desc()).limit(limit)).scalars().all()
    data = [{"id": r.id, "task": r.task, "status": r.status, "started_at": r.started_at, "finished_at": r.finished_at,
             "counts": r.counts, "error": r.error} for r in rows]
    echo_rows(data, as_json, lambda r: f"#{r['id']}\t{r['task']}\t{r['status']}\t{r['started_at']}\t{r['counts'] or ''}")
