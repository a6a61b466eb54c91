"""`flask units`: list, import and update the organisation tree."""
from __future__ import annotations

import sys
from pathlib import Path

import click
from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.audit import acting_as
from app.cli.common import JishiGroup, echo_json
from app.extensions import db
from app.integrity import ValidationFailed
from app.models import Unit
from app.organisation.unit_import import import_units, read_table
from app.scoping import Scope, scope_for

units_cli = JishiGroup("units", help="单位管理")


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
        echo_json(data)
        return
    for r in rows:
        depth = r[7].strip("/").count("/")
        click.echo(f"{'  ' * depth}{r[0]}\t{r[1]}\t{r[3]}\t{r[6]}")


@units_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as-user", "as_user", default=None, help="以该用户的权限与身份导入（默认：命令行系统操作）")
def units_import(file: Path, as_user: str | None):
    """从 xlsx/csv 批量导入单位：任何一行有错则全部不写入。"""
    sm = current_app.appbuilder.sm
    user = sm.find_user(username=as_user) if as_user else None
    if as_user and user is None:
        raise click.ClickException(f"用户“{as_user}”不存在")
    scope = scope_for(user) if user else Scope("all")
    rows = read_table(file.name, file.read_bytes())
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
