"""`flask reports …`: the periodic statistics reports by hand, their schedule, and the statistics
workbook for any period and unit."""
from __future__ import annotations

from pathlib import Path

import click
from sqlalchemy import select

from app.cli.common import JishiGroup, echo_json, parse_date
from app.extensions import db
from app.models import Unit
from app.queries.facts import differences, mismatches, rebuild
from app.reporting.scheduled import KINDS, generate, period_containing, schedules
from app.reporting.statistics import statistics_table, write_statistics_xlsx

reports_cli = JishiGroup("reports", help="统计报表")


@reports_cli.command("generate")
@click.option("--kind", type=click.Choice(["monthly", "quarterly"]), required=True, help="monthly（月报）或 quarterly（季报）")
@click.option("--period-start", "period_start", default=None, help="周期起始日 YYYY-MM-DD（默认：上一个完整周期）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def generate_cmd(kind: str, period_start: str | None, as_json: bool):
    """为每个有监督员的单位生成统计报表并通知监督员（已生成的不重复生成），与“立即生成”相同。"""
    start = parse_date(period_start, "--period-start")
    if start is not None:
        try:
            period_containing(kind, start)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--period-start") from None
    result = generate(kind, start)
    if as_json:
        echo_json(result)
        return
    click.echo(f"{KINDS[kind]} {result['period_start']} 至 {result['period_end']}：监督单位 {result['units']} 个，"
               f"新生成 {result['created']} 份，已有 {result['existing']} 份，新发送消息 {result['messages']} 条"
               f"（任务运行 #{result['task_run']}）")


@reports_cli.command("schedule")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def schedule_cmd(as_json: bool):
    """列出报表计划：是否启用、生成日与时刻、上一周期及其到期时间、尚缺报表的单位数。"""
    data = schedules()
    if as_json:
        echo_json(data)
        return
    for s in data:
        click.echo(f"{s['kind']}\t{s['label']}\t{'启用' if s['enabled'] else '停用'}\t周期结束后第 {s['day']} 天 "
                   f"{s['hour']} 点\t上一周期 {s.get('period_start', '')} 至 {s.get('period_end', '')}"
                   f"\t到期 {s.get('due_at', '')}\t尚缺 {s.get('missing_units', '')} 个单位")


@reports_cli.command("statistics")
@click.option("--from", "date_from", required=True, help="起始日 YYYY-MM-DD（讨论决定日期）")
@click.option("--to", "date_to", required=True, help="截止日 YYYY-MM-DD（含）")
@click.option("--unit", "unit_code", default=None,
              help="单位代码（统计该单位及全部下级单位；默认：顶级单位中代码最小者）")
@click.option("--by", "by", type=click.Choice(["unit", "month", "quarter", "year"]), default="unit",
              help="行：unit（按单位，默认）、month、quarter 或 year（按期间）")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, writable=True, path_type=Path),
              help="输出的 xlsx 文件")
def statistics_cmd(date_from: str, date_to: str, unit_code: str | None, by: str, out: Path):
    """按任意期间和单位写出干部选拔任用工作情况统计表（xlsx，与统计分析页面及其导出同一口径），不保存到系统中。"""
    start, end = parse_date(date_from, "--from"), parse_date(date_to, "--to")
    if start > end:
        raise click.BadParameter("起始日不能晚于截止日", param_hint="--from")
    if unit_code:
        unit = db.session.execute(select(Unit).where(Unit.code == unit_code)).scalar_one_or_none()
        if unit is None:
            raise click.ClickException(f"单位代码“{unit_code}”不存在")
    else:
        unit = db.session.execute(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.code)).scalars().first()
        if unit is None:
            raise click.ClickException("系统中还没有任何单位")
    table = statistics_table(unit, start, end, by=by)
    rows = write_statistics_xlsx(str(out), table)
    click.echo(f"已写出 {out}：{unit.name}（含下级单位）{start.isoformat()} 至 {end.isoformat()}，{rows} 行，"
               f"调整干部总人数 {table.total.values['people']} 人")


@reports_cli.command("facts-verify")
def facts_verify_cmd():
    """核对统计事实表与案例数据是否一致（不一致时列出案例并以状态码 1 退出）。"""
    bad = mismatches(limit=50)
    if not bad:
        click.echo("统计事实表与案例数据一致")
        return
    for case_id in bad:
        click.echo(f"案例 #{case_id}：{differences(case_id)}")
    click.echo(f"发现 {len(bad)} 个不一致的案例（最多列出 50 个），请运行 flask reports facts-rebuild", err=True)
    raise SystemExit(1)


@reports_cli.command("facts-rebuild")
def facts_rebuild_cmd():
    """按案例数据重新计算整个统计事实表（一个事务；每 10 万个案例报告一次进度）。"""
    with click.progressbar(length=1, label="重算统计事实表", show_pos=True) as bar:
        def progress(done: int, total: int) -> None:
            bar.length = total
            bar.update(done - bar.pos)

        written = rebuild(progress=progress)
        db.session.commit()
    click.echo(f"已重算 {written} 个在办案例的统计事实")
