"""`flask rules` and `flask calendar`: the rule catalogue, the daily run, the working calendar."""
from __future__ import annotations

import datetime as dt

import click

from app.audit import acting_as
from app.cli.common import JishiGroup, echo_json, echo_rows, parse_date
from app.dates import package_years
from app.rule_settings import seed_calendar, settings_for
from app.rules.catalog import all_rules
from app.tasks.rules import run_daily

rules_cli = JishiGroup("rules", help="硬杠规则")
calendar_cli = JishiGroup("calendar", help="工作日历")


@rules_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def rules_list(as_json: bool):
    """列出全部规则：编号、名称、类别、严重程度、是否启用、评估时点、依据、参数。"""

    settings = settings_for(None, dt.date.today())
    data = []
    for code, rule in sorted(all_rules().items()):
        setting = settings.get(code)
        data.append({
            "code": code, "title": rule.title, "category": rule.category, "severity": rule.severity,
            "enabled": setting.enabled if setting else rule.enabled_by_default, "points": [p for p in ("E", "S1", "S2", "D") if p in rule.points],
            "basis": rule.basis, "params": {**rule.params, **((setting.params or {}) if setting else {})},
        })
    echo_rows(data, as_json, lambda r: f"{r['code']}\t{'启用' if r['enabled'] else '停用'}\t{r['severity']}\t"
                                       f"{','.join(r['points'])}\t{r['title']}")


@rules_cli.command("daily")
@click.option("--as-of", "as_of", default=None,
              help="评估日期 YYYY-MM-DD（默认今天）；不是今天时只计算并显示该日的结果，不写入任何数据")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def rules_daily(as_of: str | None, as_json: bool):
    """每日评估（全部在办案例重新推导灯与时限），与定时任务相同。--as-of 指定其他日期时只读、不写入。"""
    day = parse_date(as_of, "--as-of")
    with acting_as("命令行", "cli"):
        result = run_daily(day)
    if as_json:
        echo_json(result)
    else:
        note = "" if result["written"] else "（仅计算，未写入）"
        click.echo(f"{result['as_of']}：已评估 {result['evaluated']} 个案例，其中红灯 {result['red']} 个{note}")


@calendar_cli.command("seed")
def calendar_seed():
    """把 chinese-calendar 包中的节假日与调休安排写入日历表（可重复执行）。"""
    with acting_as("命令行", "cli"):
        added = seed_calendar()
    click.echo(f"日历已更新：新增 {added} 天；已知年份 {min(package_years())}–{max(package_years())}")
