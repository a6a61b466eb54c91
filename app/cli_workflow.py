"""`flask jishi verify`: recompute every submission and signature hash (read-only)."""
from __future__ import annotations

import sys

import click
from sqlalchemy import select

from app.cli import jishi_cli
from app.extensions import db


@jishi_cli.command("verify")
@click.option("--case-no", "case_no", default=None, help="只校验该案例编号（含其全部版本）")
def verify_cmd(case_no: str | None):
    """校验全部提交快照、提交链与签字记录的哈希；有任何问题时退出码为 1。"""
    from app.models import Case
    from app.services.case_workflow import evidence_counts, verify_all

    root_ids = None
    if case_no:
        root_ids = sorted({r for r in db.session.execute(select(Case.root_id).where(Case.case_no == case_no)).scalars()
                           if r is not None})
        if not root_ids:
            raise click.ClickException(f"案例编号“{case_no}”不存在")
    breaks = verify_all(root_ids)
    submissions, signatures = evidence_counts(root_ids)
    for b in breaks:
        click.echo(f"案例 {b['case_no'] or '（未知）'}（#{b['case_id']}）：{b['message']}", err=True)
    if breaks:
        cases = len({b["case_id"] for b in breaks})
        click.echo(f"校验未通过：{cases} 个案例共 {len(breaks)} 处问题（共 {submissions} 份提交、{signatures} 个签字）",
                   err=True)
        sys.exit(1)
    click.echo(f"全部 {submissions} 份提交与 {signatures} 个签字校验通过")
