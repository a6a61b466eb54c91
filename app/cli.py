"""Command-line interface. Every command that writes does so as an explicit actor (path "cli")."""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.audit import acting_as
from app.robustness import load_json_text
from app.extensions import db
from app.models import Unit
from app.scoping import Scope

units_cli = AppGroup("units", help="单位管理")
jishi_cli = AppGroup("jishi", help="记实系统维护命令")
cases_cli = AppGroup("cases", help="案例导入导出")
rules_cli = AppGroup("rules", help="硬杠规则")
alarms_cli = AppGroup("alarms", help="报警")
calendar_cli = AppGroup("calendar", help="工作日历")


def parse_date(value: str | None, name: str) -> dt.date | None:
    """A YYYY-MM-DD option value (None stays None); a Chinese usage error otherwise."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"日期格式应为 YYYY-MM-DD，实际为“{value}”", param_hint=name) from None


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))  # Fractions print as "2/3"


@units_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def units_list(as_json: bool):
    """列出全部单位（按树的顺序）。"""
    parent = aliased(Unit)
    rows = db.session.execute(
        select(Unit.code, Unit.name, parent.code, Unit.level, Unit.unit_type, Unit.max_grade,
               Unit.authority, Unit.path)
        .outerjoin(parent, Unit.parent_id == parent.id)
        .order_by(Unit.path)
    ).all()
    data = [
        {"code": r[0], "name": r[1], "parent_code": r[2], "level": r[3], "unit_type": r[4],
         "max_grade": r[5], "authority": r[6]}
        for r in rows
    ]
    if as_json:
        _echo_json(data)
        return
    for r in rows:
        depth = r[7].strip("/").count("/")
        click.echo(f"{'  ' * depth}{r[0]}\t{r[1]}\t{r[3]}\t{r[6]}")


@units_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as-user", "as_user", default=None, help="以该用户的权限与身份导入（默认：命令行系统操作）")
def units_import(file: Path, as_user: str | None):
    """从 xlsx/csv 批量导入单位：任何一行有错则全部不写入。"""
    from app.scoping import scope_for
    from app.services.unit_import import import_units, read_table

    sm = current_app.appbuilder.sm
    user = sm.find_user(username=as_user) if as_user else None
    if as_user and user is None:
        raise click.ClickException(f"用户“{as_user}”不存在")
    scope = scope_for(user) if user else Scope("all")
    try:
        rows = read_table(file.name, file.read_bytes())
    except ValueError as exc:
        raise click.ClickException(str(exc))
    with acting_as(user or "命令行", "cli"):
        result = import_units(rows, scope)
    if not result.ok:
        for e in result.errors:
            click.echo(f"第 {e.row} 行 {e.column}：{e.message}", err=True)
        click.echo(f"导入失败：{len(result.errors)} 处错误，未写入任何数据", err=True)
        sys.exit(1)
    click.echo(f"导入成功：新增 {len(result.created)} 个单位")


@units_cli.command("update")
@click.argument("code")
@click.option("--name", default=None, help="单位名称")
@click.option("--parent", "parent_code", default=None, help="上级单位代码")
@click.option("--level", default=None, help="层级")
@click.option("--unit-type", default=None, help="单位类型")
@click.option("--max-grade", default=None, help="机构规格")
@click.option("--authority", default=None, help="任免权限")
@click.option("--region-code", default=None, help="行政区划代码")
def units_update(code, name, parent_code, level, unit_type, max_grade, authority, region_code):
    """修改一个单位（留痕，途径为命令行）。"""
    from app.integrity import ValidationFailed

    unit = db.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
    if unit is None:
        raise click.ClickException(f"单位代码“{code}”不存在")
    changes = {"name": name, "level": level, "unit_type": unit_type, "max_grade": max_grade,
               "authority": authority, "region_code": region_code}
    with acting_as("命令行", "cli"):
        for key, value in changes.items():
            if value is not None:
                setattr(unit, key, value)
        if parent_code is not None:
            parent = db.session.execute(select(Unit).where(Unit.code == parent_code)).scalar_one_or_none()
            if parent is None:
                raise click.ClickException(f"上级单位代码“{parent_code}”不存在")
            unit.parent = parent
        try:
            db.session.commit()
        except ValidationFailed as exc:
            db.session.rollback()
            raise click.ClickException(str(exc))
    click.echo(f"已修改单位 {code}")


@jishi_cli.command("seed-demo")
@click.option("--reset-passwords", is_flag=True, help="为演示账户重新生成密码并显示")
def seed_demo_cmd(reset_passwords: bool):
    """建立演示数据（可重复执行）。新账户的密码只显示这一次。"""
    from app.services.demo import seed_demo

    with acting_as("演示数据", "cli"):
        result = seed_demo(current_app.appbuilder.sm, reset_passwords=reset_passwords)
    if result["units_created"]:
        click.echo(f"已建立 {result['units_created']} 个单位")
    else:
        click.echo("单位已存在，未重复建立")
    if result.get("cases_created"):
        click.echo(f"已建立 {result['cases_created']} 个演示案例（草稿、已初次提交、已二次提交、逾期未报）")
    scan = result["scan"]
    click.echo(f"时限扫描：新标记逾期 {scan['flagged']} 个节点，发送消息 {scan['sent']} 条")
    if result["credentials"]:
        click.echo("演示账户（密码只显示这一次；忘记时运行 flask jishi seed-demo --reset-passwords）：")
        for username, (password, role, code) in result["credentials"].items():
            click.echo(f"  {username:<14} {password:<16} {role:<6} {code or '（全部单位）'}")
    else:
        click.echo("演示账户已存在（忘记密码时运行 flask jishi seed-demo --reset-passwords）")


def _user_scope(as_user):
    from app.scoping import scope_for

    if not as_user:
        return None, Scope("all")
    user = current_app.appbuilder.sm.find_user(username=as_user)
    if user is None:
        raise click.ClickException(f"用户“{as_user}”不存在")
    return user, scope_for(user)


def _read_case_file(file: Path):
    """The JSON of a case file, refused before reading when larger than JISHI_IMPORT_MAX_MB."""
    limit = int(current_app.config.get("JISHI_IMPORT_MAX_MB", 20))
    size = file.stat().st_size
    if size > limit * 1024 * 1024:
        raise click.ClickException(f"文件过大（{size / 1024 / 1024:.1f} MB），超过导入上限 {limit} MB"
                                   "（可由环境变量 JISHI_IMPORT_MAX_MB 调整），未写入任何数据")
    try:
        return load_json_text(file.read_text(encoding="utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError; so is nesting too deep
        raise click.ClickException(f"文件不是有效的 UTF-8 JSON：{exc}")


@cases_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果")
@click.option("--as-user", "as_user", default=None, help="以该用户的权限与身份导入")
def cases_import(file: Path, as_json: bool, as_user: str | None):
    """从 JSON 文件导入案例（一个或一组）：任何问题都不写入。"""
    from app.services.case_exchange import ImportFailed, import_cases

    user, scope = _user_scope(as_user)
    data = _read_case_file(file)
    try:
        with acting_as(user or "命令行", "cli"):
            created = import_cases(data, scope, user)
    except ImportFailed as exc:
        if as_json:
            _echo_json({"created": [], "problems": exc.problems})
        for p in exc.problems:
            where = ".".join(x for x in (p["module"], p["key"]) if x)
            click.echo(f"案例 {p['case']} {where}：{p['message']}", err=True)
        click.echo(f"导入失败：{len(exc.problems)} 处问题，未写入任何数据", err=True)
        sys.exit(1)
    if as_json:
        _echo_json({"created": created})
    else:
        click.echo(f"导入成功：新建 {len(created)} 个案例（{', '.join(map(str, created))}）")


@cases_cli.command("export")
@click.argument("case_id", type=int)
@click.option("--content-only", is_flag=True, help="不含签字、提交等系统记录（可再导入为新草稿）")
def cases_export(case_id: int, content_only: bool):
    """以交换格式（JSON）输出一个案例。"""
    from app.models import Case
    from app.services.case_data import export_case
    from app.services.case_exchange import export_content

    case = db.session.get(Case, case_id)
    if case is None:
        raise click.ClickException(f"案例 {case_id} 不存在")
    _echo_json(export_content(case) if content_only else export_case(case))


@cases_cli.command("update")
@click.argument("case_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as-user", "as_user", default=None, help="以该用户的权限与身份修改")
def cases_update(case_id: int, file: Path, as_user: str | None):
    """按交换格式修改案例的一个模块（一次一个模块，一个事务；已提交锁定的模块拒绝修改）。"""
    from app.models import Case
    from app.services.case_data import from_exchange
    from app.services.cases import CaseError, save_module

    user, scope = _user_scope(as_user)
    case = db.session.get(Case, case_id)
    if case is None or not scope.contains(case.unit_id):
        raise click.ClickException(f"案例 {case_id} 不存在或不在权限范围内")
    data = _read_case_file(file)
    if not isinstance(data, dict) or len(data) != 1:
        raise click.ClickException("文件应为只含一个模块的 JSON 对象，例如 {\"motion\": {...}}")
    values, problems = from_exchange(data)
    if problems:
        for p in problems:
            click.echo(f"{p.module}.{p.key}：{p.message}", err=True)
        sys.exit(1)
    with acting_as(user or "命令行", "cli"):
        for key, given in data.items():
            try:
                save_module(case, key, {k: values[key][k] for k in given})
            except CaseError as exc:
                for p in exc.problems:
                    click.echo(f"{p.module}.{p.key}：{p.message}".replace(".：", "："), err=True)
                click.echo(f"修改失败：“{key}”未保存", err=True)
                sys.exit(1)
    click.echo(f"已修改案例 {case.case_no}")


@rules_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def rules_list(as_json: bool):
    """列出全部规则：编号、名称、类别、严重程度、是否启用、评估时点、依据、参数。"""
    import datetime as dt

    from app.rules.registry import all_rules
    from app.services.rule_engine import settings_for

    settings = settings_for(None, dt.date.today())
    data = []
    for code, rule in sorted(all_rules().items()):
        setting = settings.get(code)
        data.append({
            "code": code, "title": rule.title, "category": rule.category, "severity": rule.severity,
            "enabled": setting.enabled if setting else rule.enabled_by_default, "points": [p for p in ("E", "S1", "S2", "D") if p in rule.points],
            "basis": rule.basis, "params": {**rule.params, **((setting.params or {}) if setting else {})},
        })
    if as_json:
        _echo_json(data)
        return
    for r in data:
        click.echo(f"{r['code']}\t{'启用' if r['enabled'] else '停用'}\t{r['severity']}\t{','.join(r['points'])}\t{r['title']}")


@rules_cli.command("daily")
@click.option("--as-of", "as_of", default=None,
              help="评估日期 YYYY-MM-DD（默认今天）；不是今天时只计算并显示该日的结果，不写入任何数据")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def rules_daily(as_of: str | None, as_json: bool):
    """每日评估（全部在办案例重新推导灯与时限），与定时任务相同。--as-of 指定其他日期时只读、不写入。"""
    from app.tasks.rules import run_daily

    day = parse_date(as_of, "--as-of")
    with acting_as("命令行", "cli"):
        result = run_daily(day)
    if as_json:
        _echo_json(result)
    else:
        note = "" if result["written"] else "（仅计算，未写入）"
        click.echo(f"{result['as_of']}：已评估 {result['evaluated']} 个案例，其中红灯 {result['red']} 个{note}")


@cases_cli.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as-of", "as_of", default=None, help="评估日期 YYYY-MM-DD（默认今天）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def cases_check(file: Path, as_of: str | None, as_json: bool):
    """按全部启用的规则评估一个案例文件（交换格式），不保存任何内容；退出码总是 0。"""
    import datetime as dt

    from app.models import Unit
    from app.services.case_data import from_exchange
    from app.services.rule_engine import evaluate_values, flat_values

    try:
        day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
        data = load_json_text(file.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"参数或文件无效：{exc}")
    values, problems = from_exchange(data if isinstance(data, dict) else {})
    flat = flat_values(values)
    unit = db.session.execute(select(Unit).where(Unit.code == flat.get("reporting_unit"))).scalar_one_or_none() \
        if flat.get("reporting_unit") else None
    target = db.session.execute(select(Unit).where(Unit.code == flat.get("target_unit"))).scalar_one_or_none() \
        if flat.get("target_unit") else None
    result = evaluate_values(flat, None, as_of=day, unit=unit, target_unit=target)
    out = result.as_dict()
    if problems:
        out["problems"] = [p.as_dict() for p in problems]
    if as_json:
        _echo_json(out)
    else:
        click.echo(f"灯：{result.light}")
        for h in result.hits:
            click.echo(f"  {h.code} [{h.severity}] {h.message}")


@alarms_cli.command("list")
@click.option("--unit", "unit_code", default=None, help="单位代码（含下级单位）")
@click.option("--status", default=None, help="状态：已报警/已叫停/核实无误/已整改/已关闭")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def alarms_list(unit_code: str | None, status: str | None, as_json: bool):
    """列出报警。"""
    from app.models import Alarm

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
    if as_json:
        _echo_json(data)
    else:
        for a in data:
            subject = f"案例{a['case_id']}" if a["case_id"] is not None else "应报未报（无案例）"
            click.echo(f"#{a['id']}\t{a['status']}\t{a['unit']}\t{subject}\t{a['code']}")


@calendar_cli.command("seed")
def calendar_seed():
    """把 chinese-calendar 包中的节假日与调休安排写入日历表（可重复执行）。"""
    from app.rules.calendar import package_years
    from app.services.rule_engine import seed_calendar

    with acting_as("命令行", "cli"):
        added = seed_calendar()
    click.echo(f"日历已更新：新增 {added} 天；已知年份 {min(package_years())}–{max(package_years())}")


def register(app) -> None:
    from app import cli_workflow  # noqa: F401  (adds `flask jishi verify` to the jishi group)
    from app import cli_serve  # noqa: F401  (adds `flask jishi serve`: web + embedded worker, `make run`)
    from app import cli_derived  # noqa: F401  (adds `flask cases list` and `flask alarms halt`)
    from app.cli_deadlines import deadlines_cli, tasks_cli
    from app.cli_reports import reports_cli
    from app.cli_notices import notices_cli
    from app.cli_patrol import patrol_cli
    from app.cli_reconcile import reconcile_cmd

    app.cli.add_command(units_cli)
    app.cli.add_command(cases_cli)
    app.cli.add_command(rules_cli)
    app.cli.add_command(alarms_cli)
    app.cli.add_command(calendar_cli)
    app.cli.add_command(jishi_cli)
    app.cli.add_command(deadlines_cli)
    app.cli.add_command(tasks_cli)
    app.cli.add_command(reports_cli)
    app.cli.add_command(notices_cli)
    app.cli.add_command(patrol_cli)
    app.cli.add_command(reconcile_cmd)
