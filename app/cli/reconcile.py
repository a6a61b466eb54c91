"""`flask reconcile FILE`: import the 任免文件 list and reconcile it with the cases (应报未报)."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from app.audit import acting_as
from app.cli.common import JishiCommand, echo_json, user_scope
from app.supervision.reconcile import ReconcileError, reconcile


@click.command("reconcile", cls=JishiCommand)
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as-user", "as_user", default=None, help="以该用户的权限与身份导入（默认：命令行，全部单位）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出 {matched, unmatched, missing}")
@with_appcontext
def reconcile_cmd(file: Path, as_user: str | None, as_json: bool):
    """导入任免文件清单（xlsx 或 UTF-8 csv，表头：文号、日期、单位、姓名、身份证号、职务）并与案例核对：
    没有对应案例的报“应报未报”，讨论决定通过后逾期无任免文件的案例标记出来。任何一行有误则不写入。
    身份证号在输出中只显示前 6 位和后 4 位。"""
    user, scope = user_scope(as_user)
    try:
        with acting_as(user or "命令行", "cli"):
            result = reconcile(file, user, scope=scope)
    except ReconcileError as exc:
        if as_json:
            echo_json({"errors": [{"row": e.row, "column": e.column, "message": e.message} for e in exc.errors]})
        for e in exc.errors:
            click.echo(f"第 {e.row} 行 {e.column}：{e.message}" if e.row else e.message, err=True)
        click.echo(f"导入失败：{len(exc.errors)} 处问题，未写入任何数据", err=True)
        sys.exit(1)
    if as_json:
        echo_json(result.as_dict())
        return
    click.echo(f"新增任免文件 {result.new} 份，已有 {result.unchanged} 份")
    click.echo(f"已匹配 {len(result.matched)} 份；应报未报 {len(result.unmatched)} 份；无任免文件的案例 {len(result.missing)} 个")
    for e in result.unmatched:
        click.echo(f"  应报未报\t{e['doc_no']}\t{e['doc_date']}\t{e['unit_code']}\t{e['person_name']}\t{e['post']}")
    for e in result.missing:
        click.echo(f"  无任免文件\t{e['case_no']}\t{e['unit_code']}\t{e['person_name'] or ''}\t讨论决定 {e['decision_date']}")
