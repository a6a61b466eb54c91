"""``flask items``: custom items (自定义数据项, docs/custom-items.md)."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from app.audit import acting_as
from app.cli.common import JishiGroup, echo_json, echo_rows, load_json, user_scope
from app.record.custom_items import definitions
from app.workflow.custom_items import CustomItemRefused, add_item, set_active

items_cli = JishiGroup("items", help="自定义数据项")


@items_cli.command("add")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as-user", "as_user", required=True, help="添加数据项的系统管理员用户名")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果")
def items_add(file: Path, as_user: str, as_json: bool):
    """从 JSON 文件添加一个自定义数据项：{"module", "key", "label", "type", "required", "effective_from",
    "region_code"?, "unit"?}。有任何问题都不写入。"""
    user, _scope = user_scope(as_user)
    data = load_json(file)
    try:
        with acting_as(user, "cli"):
            item = add_item(data, user)
    except CustomItemRefused as exc:
        if as_json:
            echo_json({"created": None, "problems": exc.problems})
        for p in exc.problems:
            click.echo(p, err=True)
        click.echo(f"未添加：{len(exc.problems)} 处问题，未写入任何数据", err=True)
        sys.exit(1)
    if as_json:
        echo_json({"created": {"id": item.id, "key": item.key}})
    else:
        click.echo(f"已添加自定义数据项“{item.label}”（{item.module}.{item.key}），{item.effective_from} 起生效")


@items_cli.command("list")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def items_list(as_json: bool):
    """列出自定义数据项（含已停用的：其已填的值仍是证据）。"""
    echo_rows([d.as_dict() for d in definitions()], as_json,
              lambda d: f"{d['module']}.{d['key']}\t{d['label']}\t{d['type']}\t必填={d['required']}\t"
                        f"{d['effective_from']} 起\t区划={d['region_code'] or '—'}\t单位={d['unit'] or '—'}\t"
                        f"{'启用' if d['active'] else '已停用'}")


def _set_active(key: str, as_user: str, active: bool) -> None:
    user, _scope = user_scope(as_user)
    try:
        with acting_as(user, "cli"):
            item = set_active(key, active, user)
    except CustomItemRefused as exc:
        for p in exc.problems:
            click.echo(p, err=True)
        click.echo("未更改，未写入任何数据", err=True)
        sys.exit(1)
    if active:
        click.echo(f"已启用自定义数据项“{item.label}”（{item.module}.{item.key}）")
    else:
        click.echo(f"已停用自定义数据项“{item.label}”（{item.module}.{item.key}）：不再出现在新的填报中，已填的值照常保留和显示")


@items_cli.command("deactivate")
@click.argument("key")
@click.option("--as-user", "as_user", required=True, help="系统管理员用户名")
def items_deactivate(key: str, as_user: str):
    """停用一个自定义数据项：不再用于新的填报、导入和新规则，已填的值照常保留、显示、导出和查询。"""
    _set_active(key, as_user, False)


@items_cli.command("activate")
@click.argument("key")
@click.option("--as-user", "as_user", required=True, help="系统管理员用户名")
def items_activate(key: str, as_user: str):
    """重新启用一个已停用的自定义数据项。"""
    _set_active(key, as_user, True)
