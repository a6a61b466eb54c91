"""What every command shares: JSON output, date options, the --as-user scope."""
from __future__ import annotations

import datetime as dt
import json

import click
from flask import current_app

from app.scoping import Scope
from app.scoping import scope_for


def parse_date(value: str | None, name: str) -> dt.date | None:
    """A YYYY-MM-DD option value (None stays None); a Chinese usage error otherwise."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"日期格式应为 YYYY-MM-DD，实际为“{value}”", param_hint=name) from None


def echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))  # Fractions print as "2/3"



def user_scope(as_user):
    if not as_user:
        return None, Scope("all")
    user = current_app.appbuilder.sm.find_user(username=as_user)
    if user is None:
        raise click.ClickException(f"用户“{as_user}”不存在")
    return user, scope_for(user)

