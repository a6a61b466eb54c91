"""`flask people`: a person's timeline across cases and 任免文件, and recording 档案专审 corrections."""
from __future__ import annotations

import click

from app.audit import acting_as
from app.cli.common import JishiGroup, echo_json, parse_date, user_scope
from app.extensions import db
from app.queries.people import timeline
from app.supervision.people import CorrectionRefused, record_correction

people_cli = JishiGroup("people", help="人员档案：按身份证号查看一人在全部案例和任免文件中的记录，登记档案专审更正")


@people_cli.command("timeline")
@click.argument("id_card_no")
@click.option("--as-user", "as_user", default=None, help="以该用户的权限查看（默认：命令行，全部单位）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def timeline_cmd(id_card_no: str, as_user: str | None, as_json: bool):
    """一人的时间线：每个案例（单位、任用类型、现任职务及时间、拟任职务、讨论决定）和每份任免文件，按日期排列；
    列出经登记更正关联的身份证号和档案专审更正。"""
    _user, scope = user_scope(as_user)
    data = timeline(id_card_no.strip().upper(), scope=scope)
    if as_json:
        echo_json(data)
        return
    if not data["events"]:
        click.echo("系统内没有该身份证号的案例或任免文件")
    if len(data["linked_ids"]) > 1:
        click.echo("关联身份证号（经登记更正）：" + "、".join(data["linked_ids"]))
    for e in data["events"]:
        if e["kind"] == "案例":
            click.echo(f"{e['date'] or '未决定'}\t案例 {e['case_no']}\t{e['unit']}\t{e['selection_type'] or ''}\t"
                       f"现任 {e['current_post'] or ''}（{e['current_post_date'] or ''}）→ 拟任 {e['post'] or ''}"
                       f"（{e['grade'] or ''}）\t{e['decision_result'] or e['status']}\t"
                       f"{e['full_name']} 出生 {e['birth_date']} 参加工作 {e['work_start_date']} "
                       f"入党 {e['party_join_date'] or '—'} 学历 {e['full_time_education']}")
        else:
            click.echo(f"{e['date']}\t任免文件 {e['doc_no']}\t{e['unit']}\t{e['full_name']}\t{e['post']}")
    for c in data["corrections"]:
        click.echo(f"更正 {c['item_key']}：{c['old_value']} → {c['new_value']}（{c['basis']}，{c['decided_on']}）")


@people_cli.command("correct")
@click.argument("id_card_no")
@click.argument("item_key")
@click.argument("old_value")
@click.argument("new_value")
@click.option("--basis", required=True, help="更正依据（档案专审认定文件及文号）")
@click.option("--date", "decided_on", required=True, help="认定日期 YYYY-MM-DD")
@click.option("--as-user", "as_user", default=None, help="以该用户身份登记")
def correct_cmd(id_card_no, item_key, old_value, new_value, basis, decided_on, as_user):
    """登记一项档案专审更正：ITEM_KEY 为 id_card_no、full_name、birth_date、work_start_date、party_join_date 或
    full_time_education；身份证号更正时 OLD_VALUE 为原号码、NEW_VALUE 为本人现号码。登记后重新判定此人的案例。"""
    user, _scope = user_scope(as_user)
    day = parse_date(decided_on, "--date")
    with acting_as(user or "命令行", "cli"):
        try:
            record_correction(id_card_no.strip().upper(), item_key, old_value, new_value, basis, day)
            db.session.commit()
        except CorrectionRefused as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None
        except Exception:
            db.session.rollback()
            raise
    click.echo(f"已登记更正：{item_key} {old_value} → {new_value}")
