"""`flask patrol sample`: a reproducible spot-check draw from the command line (app.supervision.patrol).

    flask patrol sample --rate 0.1 --seed 2026 --unit D01 --json
    flask patrol sample --count 2 --seed 2026 --unit D01 --from 2026-01-01 --to 2026-06-30 \\
        --save --as-user sup01 --json

The same seed over the same cases gives the same cases. Without ``--save`` nothing is written.
Bad input exits with status 1 and says what is wrong in Chinese (with ``--json`` also as
``{"problems": [...]}`` on standard output).
"""
from __future__ import annotations

import datetime as dt
import sys

import click
from flask import current_app
from sqlalchemy import select

from app.audit import acting_as
from app.cli.common import JishiGroup, echo_json
from app.extensions import db
from app.models import Case, Unit
from app.scoping import Scope, scope_for
from app.supervision.patrol import MAX_COUNT, MAX_SEED, PatrolError, draw, parse_rate, record_spot_check

patrol_cli = JishiGroup("patrol", help="网上巡查与抽查")


def _fail(problems: list[str], as_json: bool) -> None:
    if as_json:
        echo_json({"problems": problems})
    for p in problems:
        click.echo(p, err=True)
    click.echo("抽查未执行" if len(problems) == 1 else f"抽查未执行：{len(problems)} 处问题", err=True)
    sys.exit(1)


def _day(value: str | None, option: str, problems: list[str]) -> dt.date | None:
    if value is None or not value.strip():
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        problems.append(f"{option} 应为日期（YYYY-MM-DD），收到“{value[:20]}”")
        return None


def _cases(case_ids: list[int]) -> list[dict]:
    """The drawn cases in draw order: number, name and unit."""
    if not case_ids:
        return []
    rows = {r.id: r for r in db.session.execute(
        select(Case.id, Case.case_no, Case.full_name, Unit.code, Unit.name)
        .join(Unit, Unit.id == Case.unit_id).where(Case.id.in_(case_ids))).all()}
    return [{"case_id": cid, "case_no": rows[cid].case_no, "name": rows[cid].full_name or "",
             "unit": rows[cid].code, "unit_name": rows[cid].name} for cid in case_ids if cid in rows]


@patrol_cli.command("sample")
@click.option("--rate", default=None, help="抽查比例（0–1，如 0.1）：每单位抽取 ⌈比例 × 件数⌉ 件")
@click.option("--count", default=None, help="每单位抽查件数（不足则全部）")
@click.option("--seed", default=None, help="随机种子：同一种子、同样的案例得到相同的抽查结果")
@click.option("--unit", "unit_code", default=None, help="单位代码（含下级单位；默认 --as-user 用户的单位）")
@click.option("--from", "date_from", default=None, help="讨论决定日期起（YYYY-MM-DD）")
@click.option("--to", "date_to", default=None, help="讨论决定日期止（YYYY-MM-DD）")
@click.option("--save", is_flag=True, help="保存抽查结果（需要 --as-user 指定监督员）")
@click.option("--as-user", "as_user", default=None, help="以该用户的权限范围抽查（默认：全部单位）")
@click.option("--title", default=None, help="保存时的标题（默认按单位、方式和种子生成）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出")
def sample_cmd(rate, count, seed, unit_code, date_from, date_to, save, as_user, title, as_json):
    """从单位（含下级单位）已提交的现行案例中按单位随机抽查，可复现；加 --save 保存。"""
    problems: list[str] = []
    if (rate is None) == (count is None):
        problems.append("请指定抽查比例 --rate 或每单位抽查件数 --count 之一")
    number = None
    if rate is not None:
        try:
            rate = str(parse_rate(rate))
        except PatrolError as exc:
            problems += exc.problems
    if count is not None:
        try:
            number = int(count)
        except ValueError:
            problems.append(f"--count 应为正整数，收到“{count[:20]}”")
        else:
            if not 1 <= number <= MAX_COUNT:
                problems.append(f"--count 应为 1 至 {MAX_COUNT} 之间的整数")
    if seed is None or not seed.strip():
        problems.append("请用 --seed 指定随机种子，以便复现抽查结果")
    elif len(seed) > MAX_SEED:
        problems.append(f"随机种子不能超过 {MAX_SEED} 个字符")
    period_from = _day(date_from, "--from", problems)
    period_to = _day(date_to, "--to", problems)
    if period_from and period_to and period_from > period_to:
        problems.append("--from 不能晚于 --to")
    if title is not None and len(title) > 200:
        problems.append("--title 不能超过 200 个字")

    user = None
    scope = Scope("all")
    if as_user:
        user = current_app.appbuilder.sm.find_user(username=as_user)
        if user is None:
            problems.append(f"用户“{as_user}”不存在")
        else:
            scope = scope_for(user)
    if save and not as_user:
        problems.append("保存抽查结果需要用 --as-user 指定监督员")
    unit = None
    if unit_code:
        unit = db.session.execute(select(Unit).where(Unit.code == unit_code[:40])).scalar_one_or_none()
        if unit is None or not scope.contains(unit.id):
            problems.append(f"单位代码“{unit_code[:40]}”不存在" + ("或不在该用户的权限范围内" if user else ""))
            unit = None
    elif user is not None and user.unit_id is not None:
        unit = db.session.get(Unit, user.unit_id)
    elif not as_user or user is not None:
        problems.append("请用 --unit 指定抽查单位代码")
    if problems:
        _fail(problems, as_json)

    params = dict(seed=seed, rate=rate, count=number, period_from=period_from, period_to=period_to)
    check = None
    try:
        if save:
            with acting_as(user, "cli"):
                check = record_spot_check(unit, user, title=title, **params)
            case_ids = [item.case_id for item in check.items]
            population = check.population
        else:
            result = draw(unit, scope, **params)
            case_ids, population = result.case_ids, result.population
    except PatrolError as exc:
        db.session.rollback()
        _fail(exc.problems, as_json)
        return

    out = {"seed": seed, "unit": unit.code, "unit_name": unit.name, "method": "count" if number else "rate",
           "rate": rate, "count": number, "from": period_from.isoformat() if period_from else None,
           "to": period_to.isoformat() if period_to else None, "population": population,
           "cases": _cases(case_ids)}
    if check is not None:
        out["spot_check_id"] = check.id
    if as_json:
        echo_json(out)
        return
    how = f"每单位 {number} 件" if number else f"比例 {rate}"
    click.echo(f"{unit.name}（{unit.code}，含下级单位）抽查：{how}，随机种子 {seed}；总体 {population} 件，"
               f"抽中 {len(out['cases'])} 件" + (f"；已保存为抽查 #{check.id}" if check is not None else ""))
    for c in out["cases"]:
        click.echo(f"  {c['case_no']}\t{c['name']}\t{c['unit']}\t{c['unit_name']}")
