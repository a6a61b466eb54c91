"""What every command shares: refusals as clean errors, JSON or line output, date options, the --as-user scope."""
from __future__ import annotations

import datetime as dt
import json
from typing import Callable

import click
from flask import current_app
from flask.cli import AppGroup

from app.errors import JishiError
from app.scoping import Scope, scope_for


class RefusalsAsErrors:
    """A refusal (``JishiError``) escaping a command ends it as a usage error: its Chinese message on
    stderr and exit status 1, not a traceback. Commands that list every problem catch theirs first."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except JishiError as exc:
            raise click.ClickException(exc.message) from exc


class JishiGroup(RefusalsAsErrors, AppGroup):
    """Every command group of the app (``flask units``, ``flask cases``, …)."""


class JishiCommand(RefusalsAsErrors, click.Command):
    """A top-level command outside any group (``flask reconcile``)."""


def parse_date(value: str | None, name: str) -> dt.date | None:
    """A YYYY-MM-DD option value (None stays None); a Chinese usage error otherwise."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"日期格式应为 YYYY-MM-DD，实际为“{value}”", param_hint=name) from None


def load_json(path) -> object:
    """A JSON file given to a command (a rule, an item, a rule pack), or a Chinese refusal."""
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (ValueError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"文件不是有效的 JSON（UTF-8）：{exc}") from None


def echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))  # Fractions print as "2/3"


def echo_rows(data: list, as_json: bool, line: Callable[[dict], str]) -> None:
    """A listing: the rows as JSON with --json, else one line per row."""
    if as_json:
        echo_json(data)
        return
    for row in data:
        click.echo(line(row))


def user_scope(as_user):
    if not as_user:
        return None, Scope("all")
    user = current_app.appbuilder.sm.find_user(username=as_user)
    if user is None:
        raise click.ClickException(f"用户“{as_user}”不存在")
    return user, scope_for(user)
