"""`flask notices …`: draft a 通报 from the data (printed, saved only with --save), list and issue."""
from __future__ import annotations

import sys

import click
from flask import current_app
from sqlalchemy import select

from app.audit import acting_as
from app.cli.common import JishiGroup, echo_json, echo_rows, parse_date
from app.extensions import db
from app.models import Notice, Unit
from app.supervision.notices import commands as notices
from app.supervision.notices.content import compose

notices_cli = JishiGroup("notices", help="通报")


def _user(username: str | None):
    if not username:
        return None
    user = current_app.appbuilder.sm.find_user(username=username)
    if user is None:
        raise click.ClickException(f"用户“{username}”不存在")
    return user


def _unit(code: str | None, user) -> Unit:
    if code:
        unit = db.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
        if unit is None:
            raise click.ClickException(f"单位代码“{code}”不存在")
        return unit
    if user is not None and user.unit_id is not None:
        return db.session.get(Unit, user.unit_id)
    raise click.ClickException("请用 --unit 指定发文单位（或用 --as-user 指定其监督员）")


@notices_cli.command("draft")
@click.option("--from", "date_from", required=True, help="通报期间起始日期 YYYY-MM-DD")
@click.option("--to", "date_to", required=True, help="通报期间截止日期 YYYY-MM-DD")
@click.option("--unit", "unit_code", default=None, help="发文单位代码（默认：--as-user 的单位）")
@click.option("--number", default=None, help="文号，如 X组通〔2026〕1号")
@click.option("--correction-days", default=15, show_default=True, type=int, help="整改天数（自印发之日起）")
@click.option("--save", is_flag=True, help="保存为通报草稿（须同时指定 --as-user）")
@click.option("--as-user", "as_user", default=None, help="以该监督员的身份保存")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出通报内容")
def draft_cmd(date_from, date_to, unit_code, number, correction_days, save, as_user, as_json):
    """按期间生成通报内容（同样的数据得到同样的内容）；不加 --save 时不保存任何内容。"""
    f, t = parse_date(date_from, "--from"), parse_date(date_to, "--to")
    user = _user(as_user)
    unit = _unit(unit_code, user)
    if save and user is None:
        raise click.ClickException("保存草稿须用 --as-user 指定发文单位的监督员")
    problems = notices._period_problems(f, t) + notices._days_problems(correction_days)
    if problems:
        raise click.ClickException("；".join(problems))
    if save:
        try:
            with acting_as(user, "cli"):
                notice = notices.draft(unit, f, t, user, number=number, correction_days=correction_days)
        except notices.NoticeError as exc:
            raise click.ClickException("；".join(exc.problems))
        content = notice.content
        click.echo(f"已保存通报草稿 #{notice.id}：{notice.title}", err=True)
    else:
        content = compose(unit, f, t, number=number, correction_days=correction_days)
    if as_json:
        echo_json(content)
        return
    header, overall = content["header"], content["overall"]
    click.echo(f"{header['issuer']}  {header['number'] or '（文号待定）'}")
    click.echo(header["title"])
    for line in overall["summary"]:
        click.echo(f"  {line}")
    click.echo(f"迟报名单 {content['late']['count']} 件次；错报漏报 {content['wrong']['count']} 项；"
               f"须整改单位 {len(content['requirements']['units'])} 个")
    for r in content["ranking"]["rows"]:
        click.echo(f"  {r['rank']:>3}  {r['unit_code']}\t{r['unit_name']}\t{r['score']} 分")


@notices_cli.command("list")
@click.option("--unit", "unit_code", default=None, help="发文单位代码")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def list_cmd(unit_code, as_json):
    """列出通报。"""
    q = select(Notice).order_by(Notice.id)
    if unit_code:
        q = q.where(Notice.unit_id == _unit(unit_code, None).id)
    data = [{"id": n.id, "number": n.number, "title": n.title, "unit": n.unit.code, "status": n.status,
             "period_from": n.period_from.isoformat(), "period_to": n.period_to.isoformat(),
             "correction_deadline": n.correction_deadline.isoformat() if n.correction_deadline else None,
             "issued_at": n.issued_at.isoformat(timespec="seconds") if n.issued_at else None,
             "cases": len(n.cases)} for n in db.session.execute(q).scalars()]
    echo_rows(data, as_json, lambda n: f"#{n['id']}\t{n['status']}\t{n['unit']}\t{n['number'] or ''}\t{n['title']}")


@notices_cli.command("issue")
@click.argument("notice_id", type=int)
@click.option("--as-user", "as_user", required=True, help="发文单位的监督员")
def issue_cmd(notice_id, as_user):
    """印发通报草稿：锁定内容，发送站内消息。"""
    user = _user(as_user)
    notice = db.session.get(Notice, notice_id)
    if notice is None:
        raise click.ClickException(f"通报 #{notice_id} 不存在")
    try:
        with acting_as(user, "cli"):
            ids = notices.issue(notice, user)
    except notices.NoticeError as exc:
        click.echo("；".join(exc.problems), err=True)
        sys.exit(1)
    click.echo(f"已印发通报 #{notice.id}（整改期限 {notice.correction_deadline.isoformat()}），"
               f"发送站内消息 {len(ids)} 条")
