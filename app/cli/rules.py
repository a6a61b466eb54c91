"""`flask rules` and `flask calendar`: the rule catalogue, the daily run, the working calendar."""
from __future__ import annotations

import datetime as dt
import json

import click

from app.audit import acting_as
from app.cli.common import JishiGroup, echo_json, echo_rows, load_json, parse_date, user_scope
from app.dates import package_years
from app.rule_settings import custom_rules_in_force, seed_calendar, settings_for
from app.rules.catalog import all_rules
from app.tasks.rules import run_daily
from app.workflow import custom_rules, rule_packs

rules_cli = JishiGroup("rules", help="硬杠规则")
calendar_cli = JishiGroup("calendar", help="工作日历")
custom_cli = JishiGroup("custom", help="自定义规则：编写（草稿）、试运行、审批启用（四眼原则）、停用")
rules_cli.add_command(custom_cli)


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
    for rule in custom_rules_in_force(dt.date.today()):
        data.append({"code": rule.code, "title": rule.title, "category": rule.category, "severity": rule.severity,
                     "enabled": True, "points": [p for p in ("E", "S1", "S2", "D") if p in rule.points],
                     "basis": rule.basis, "params": {}, "custom": True, "version": rule.version_label,
                     "expression": rule.expression, "effective_from": rule.effective_from.isoformat()})
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


def _user(as_user: str):
    user, _scope = user_scope(as_user)
    return user


def _refused(exc: custom_rules.CustomRuleError):
    raise click.ClickException("\n".join(exc.problems)) from exc


@custom_cli.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--as-user", "as_user", required=True, help="编写人（系统管理员或监督员）用户名")
def custom_add(file: str, as_user: str):
    """从 JSON 文件保存一条自定义规则（新规则或已有规则的新版本），状态为草稿，须另一位管理员审批后启用。"""
    data = load_json(file)
    user = _user(as_user)
    try:
        with acting_as(user, "cli"):
            row = custom_rules.save_draft(data, user)
    except custom_rules.CustomRuleError as exc:
        _refused(exc)
    click.echo(f"已保存自定义规则 {row.code} 第 {row.version_no} 版（草稿）：{row.title}")


@custom_cli.command("try")
@click.argument("code")
@click.option("--from", "date_from", default=None, help="评判日期（决定日期，无则动议日期）起 YYYY-MM-DD")
@click.option("--to", "date_to", default=None, help="评判日期止 YYYY-MM-DD")
@click.option("--unit", "unit_code", default=None, help="只试运行该单位及下级单位的案例")
@click.option("--as-user", "as_user", default=None, help="以该用户的权限范围试运行（默认：全部）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def custom_try(code, date_from, date_to, unit_code, as_user, as_json):
    """试运行：用规则的最新版本（含草稿）检查已有案例，只读，不写入任何数据。"""
    start, end = parse_date(date_from, "--from"), parse_date(date_to, "--to")
    user = _user(as_user) if as_user else None
    try:
        result = custom_rules.try_rule(code, user, date_from=start, date_to=end, unit_code=unit_code)
    except custom_rules.CustomRuleError as exc:
        _refused(exc)
    if as_json:
        echo_json(result)
        return
    click.echo(f"规则 {result['code']} 第 {result['version']} 版（{result['status']}）：检查 {result['checked']} 个案例，"
               f"将触发 {result['would_fire']} 个，符合 {result['passed']} 个，不适用 {result['not_applicable']} 个")
    for case in result["cases"]:
        click.echo(f"{case['case_no']}\t{case['unit']}\t{case['judged_on']}\t{case['message']}")


@custom_cli.command("approve")
@click.argument("code")
@click.option("--as-user", "as_user", required=True, help="审批人：编写人以外的管理员")
def custom_approve(code: str, as_user: str):
    """审批启用（四眼原则）：须由编写人以外的管理员执行，记入痕迹。"""
    user = _user(as_user)
    try:
        with acting_as(user, "cli"):
            row = custom_rules.approve(code, user)
    except custom_rules.CustomRuleError as exc:
        _refused(exc)
    click.echo(f"已启用自定义规则 {row.code} 第 {row.version_no} 版（编写：{row.author_name}，审批：{row.approver_name}），"
               f"{row.effective_from.isoformat()} 起生效")


@custom_cli.command("disable")
@click.argument("code")
@click.option("--as-user", "as_user", required=True, help="执行人用户名")
@click.option("--from", "date_from", default=None, help="停用日期 YYYY-MM-DD（默认今天）")
def custom_disable(code: str, as_user: str, date_from: str | None):
    """停用：新增一个停用版本，此前评判的案例不受影响。"""
    user = _user(as_user)
    try:
        with acting_as(user, "cli"):
            row = custom_rules.disable(code, user, parse_date(date_from, "--from"))
    except custom_rules.CustomRuleError as exc:
        _refused(exc)
    click.echo(f"已停用自定义规则 {row.code}（第 {row.version_no} 版），{row.effective_from.isoformat()} 起")


@custom_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def custom_list(as_json: bool):
    """列出全部自定义规则的全部版本。"""
    rows = custom_rules.all_versions()
    data = [{"code": r.code, "version": r.version_no, "status": r.status, "title": r.title,
             "effective_from": r.effective_from.isoformat(), "author": r.author_name, "approver": r.approver_name,
             "expression": r.expression} for r in rows]
    echo_rows(data, as_json,
              lambda r: f"{r['code']}\tv{r['version']}\t{r['status']}\t{r['effective_from']}\t{r['title']}")


@custom_cli.command("export")
@click.argument("codes", nargs=-1)
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False), help="输出的规则包文件（JSON）")
@click.option("--source", default="", help="来源说明，如“某省委组织部”")
def custom_export(codes, out: str, source: str):
    """导出规则包：已启用的自定义规则（不写编号则导出全部），带签名。"""
    try:
        pack = rule_packs.export_pack(list(codes) or None, source=source)
    except custom_rules.CustomRuleError as exc:
        _refused(exc)
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(pack, fh, ensure_ascii=False, indent=2)
    click.echo(f"已导出 {len(pack['rules'])} 条自定义规则到 {out}")


@custom_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--as-user", "as_user", required=True, help="导入人（系统管理员）用户名")
@click.option("--apply", "apply", is_flag=True, help="写入（新增与修改的规则保存为草稿，须另一位管理员审批）；不加则只显示差异")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def custom_import(file: str, as_user: str, apply: bool, as_json: bool):
    """导入规则包：先验证签名（无效则拒绝、不写入），显示与现有规则的差异；--apply 时写为草稿。"""
    pack = load_json(file)
    user = _user(as_user)
    try:
        with acting_as(user, "cli"):
            result = rule_packs.import_pack(pack, user) if apply else rule_packs.diff(pack, user)
    except custom_rules.CustomRuleError as exc:
        _refused(exc)
    if as_json:
        echo_json(result)
        return
    for change in result:
        fields = "、".join(change["changes"])
        line = f"{change['kind']}\t{change['code']}\t{change['action']}" + (f"（{fields}）" if fields else "")
        if "version" in change:
            line += f"\t已写为草稿第 {change['version']} 版"
        elif "id" in change:
            line += "\t已添加"
        click.echo(line)
    if not apply:
        click.echo("（仅显示差异，未写入；加 --apply 写为草稿）")
