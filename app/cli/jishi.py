"""`flask jishi`: maintenance — demo seed, evidence and derived-state verification, database grants."""
from __future__ import annotations

import sys

import click
from flask import current_app
from sqlalchemy import select

from app.alarms.derived import verify
from app.audit import acting_as
from app.cli.common import JishiGroup, echo_json
from app.demo.seed import seed_demo
from app.extensions import db
from app.infra import db_grants
from app.models import Case
from app.record.evidence import check_head, head_text
from app.workflow.verification import evidence_counts, verify_all

jishi_cli = JishiGroup("jishi", help="记实系统维护命令")


@jishi_cli.command("seed-demo")
@click.option("--reset-passwords", is_flag=True, help="为演示账户重新生成密码并显示")
def seed_demo_cmd(reset_passwords: bool):
    """建立演示数据（可重复执行）。新账户的密码只显示这一次。"""
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


@jishi_cli.command("verify")
@click.option("--case-no", "case_no", default=None, help="只校验该案例编号（含其全部版本）")
@click.option("--head", "heads", multiple=True, help="核对通报或报表上打印的证据链头（如 #12:1a2b3c4d5e6f7a8b），可多次给出")
@click.option("--derived", "derived", is_flag=True,
              help="改为校验推导状态：按事实重新推导每个在办案例的灯、评估、报送期限、期限报警与统计行，列出每处不一致")
@click.option("--json", "as_json", is_flag=True, help="（与 --derived 同用）以 JSON 输出")
def verify_cmd(case_no: str | None, heads: tuple[str, ...], derived: bool = False, as_json: bool = False):
    """校验全部提交快照、提交链、签字记录的哈希与封存 HMAC，并逐项比对已提交案例的现存数据与提交快照；
    有任何问题时退出码为 1。--derived：校验推导状态（只读），有任何不一致时退出码为 1。"""
    if derived:
        return _verify_derived(as_json)
    root_ids = None
    if case_no:
        root_ids = sorted({r for r in db.session.execute(select(Case.root_id).where(Case.case_no == case_no)).scalars()
                           if r is not None})
        if not root_ids:
            raise click.ClickException(f"案例编号“{case_no}”不存在")
    breaks = verify_all(root_ids)
    breaks += [{"case_id": None, "case_no": None, "kind": "head", "message": problem}
               for problem in map(check_head, heads) if problem]
    submissions, signatures = evidence_counts(root_ids)
    for b in breaks:
        where = f"案例 {b['case_no'] or '（未知）'}（#{b['case_id']}）：" if b["case_id"] is not None else ""
        click.echo(f"{where}{b['message']}", err=True)
    if breaks:
        cases = len({b["case_id"] for b in breaks if b["case_id"] is not None})
        click.echo(f"校验未通过：{cases} 个案例共 {len(breaks)} 处问题（共 {submissions} 份提交、{signatures} 个签字）",
                   err=True)
        sys.exit(1)
    click.echo(f"全部 {submissions} 份提交与 {signatures} 个签字校验通过")
    click.echo(head_text())


@jishi_cli.command("db-grants")
@click.argument("role")
@click.option("--apply", "do_apply", is_flag=True, help="以当前（所有者）连接直接执行；不加时只打印 SQL")
def db_grants_cmd(role: str, do_apply: bool):
    """打印（或 --apply 执行）应用数据库角色 ROLE 的权限：证据表只能查询和追加，其余表可增删改查。
    每次迁移后以所有者身份执行一次（PostgreSQL）。"""
    problems = db_grants.role_problems(role)
    if problems:
        raise click.ClickException("；".join(problems))
    if do_apply:
        sql = db_grants.apply(role)
        click.echo(f"已为角色“{role}”执行 {len(sql)} 条授权语句")
        return
    for statement in db_grants.statements(role):
        click.echo(statement + ";")


def _verify_derived(as_json: bool) -> None:
    result = verify()
    if as_json:
        echo_json(result)
    else:
        for d in result["differences"]:
            click.echo(f"案例 {d['case_no']}（#{d['case_id']}）{d['field']}：存储为 {d['stored']}，重新推导为 {d['recomputed']}",
                       err=True)
        click.echo(f"已重新推导 {result['cases']} 个在办案例：{len(result['differences'])} 处不一致")
    if result["differences"]:
        sys.exit(1)
