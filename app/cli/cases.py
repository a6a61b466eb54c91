"""`flask cases`: import, export, update, check and list cases (JSON exchange format)."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select

from app.alarms.engine import evaluate_values, flat_values
from app.audit import acting_as
from app.cli.common import JishiGroup, echo_json, echo_rows, user_scope
from app.extensions import db
from app.models import Batch, Case, Unit
from app.record import custom_items
from app.record.data import export_case, from_exchange
from app.robustness import load_json_text
from app.workflow.cases import CaseError, save_module
from app.workflow.exchange import ImportFailed, export_content, import_cases

cases_cli = JishiGroup("cases", help="案例导入导出")


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
    user, scope = user_scope(as_user)
    data = _read_case_file(file)
    try:
        with acting_as(user or "命令行", "cli"):
            created = import_cases(data, scope, user)
    except ImportFailed as exc:
        if as_json:
            echo_json({"created": [], "problems": exc.problems})
        for p in exc.problems:
            where = ".".join(x for x in (p["module"], p["key"]) if x)
            click.echo(f"案例 {p['case']} {where}：{p['message']}", err=True)
        click.echo(f"导入失败：{len(exc.problems)} 处问题，未写入任何数据", err=True)
        sys.exit(1)
    if as_json:
        echo_json({"created": created})
    else:
        click.echo(f"导入成功：新建 {len(created)} 个案例（{', '.join(map(str, created))}）")


@cases_cli.command("export")
@click.argument("case_id", type=int)
@click.option("--content-only", is_flag=True, help="不含签字、提交等系统记录（可再导入为新草稿）")
def cases_export(case_id: int, content_only: bool):
    """以交换格式（JSON）输出一个案例。"""
    case = db.session.get(Case, case_id)
    if case is None:
        raise click.ClickException(f"案例 {case_id} 不存在")
    echo_json(export_content(case) if content_only else export_case(case))


@cases_cli.command("update")
@click.argument("case_id", type=int)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as-user", "as_user", default=None, help="以该用户的权限与身份修改")
def cases_update(case_id: int, file: Path, as_user: str | None):
    """按交换格式修改案例的一个模块（一次一个模块，一个事务；已提交锁定的模块拒绝修改）。"""
    user, scope = user_scope(as_user)
    case = db.session.get(Case, case_id)
    if case is None or not scope.contains(case.unit_id):
        raise click.ClickException(f"案例 {case_id} 不存在或不在权限范围内")
    data = _read_case_file(file)
    if not isinstance(data, dict) or len(data) != 1:
        raise click.ClickException("文件应为只含一个模块的 JSON 对象，例如 {\"motion\": {...}}")
    values, problems = from_exchange(data, custom_items.specs_for(case))
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


@cases_cli.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as-of", "as_of", default=None, help="评估日期 YYYY-MM-DD（默认今天）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def cases_check(file: Path, as_of: str | None, as_json: bool):
    """按全部启用的规则评估一个案例文件（交换格式），不保存任何内容；退出码总是 0。"""

    try:
        day = dt.date.fromisoformat(as_of) if as_of else dt.date.today()
        data = load_json_text(file.read_text(encoding="utf-8-sig"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"参数或文件无效：{exc}")
    # Read-only: every active custom item may be named (the rules read them by key).
    values, problems = from_exchange(data if isinstance(data, dict) else {}, custom_items.all_specs())
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
        echo_json(out)
    else:
        click.echo(f"灯：{result.light}")
        for h in result.hits:
            click.echo(f"  {h.code} [{h.severity}] {h.message}")


@cases_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
@click.option("--as-user", "as_user", default=None, help="只列出该用户权限范围内的案例（默认：全部）")
def cases_list(as_json: bool, as_user: str | None):
    """列出现行版本的案例：编号、版本、状态、灯、单位代码、讨论决定日期。"""
    _user, scope = user_scope(as_user)
    rows = db.session.execute(
        select(Case.id, Case.case_no, Case.version_no, Case.status, Case.light, Unit.code, Batch.decision_date)
        .join(Unit, Unit.id == Case.unit_id).outerjoin(Batch, Batch.id == Case.batch_id)
        .where(Case.is_current.is_(True), scope.clause(Case.unit_id)).order_by(Case.id)).all()
    data = [{"id": r[0], "case_no": r[1], "version": r[2], "status": r[3], "light": r[4], "unit": r[5],
             "decision_date": r[6].isoformat() if r[6] else None} for r in rows]
    echo_rows(data, as_json, lambda r: f"#{r['id']}\t{r['case_no']}\t第{r['version']}版\t{r['status']}\t"
                                       f"{r['light'] or ''}\t{r['unit']}\t{r['decision_date'] or ''}")
