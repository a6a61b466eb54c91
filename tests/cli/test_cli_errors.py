"""A refusal (app.errors.JishiError) that escapes a command ends it cleanly: the Chinese message on
stderr and exit status 1, never a traceback (app/cli/common.py: JishiGroup, JishiCommand)."""
from __future__ import annotations

from app.cli.common import JishiCommand, JishiGroup, RefusalsAsErrors
from app.errors import JishiError


def _refusing():
    def refuse():
        raise JishiError("测试：该操作未被执行")
    return refuse


def test_a_refusal_in_a_group_command_is_a_clean_error(app):
    group = JishiGroup("refusal-test")
    group.command("refuse")(_refusing())
    result = app.test_cli_runner().invoke(group, ["refuse"])
    assert result.exit_code == 1
    assert "测试：该操作未被执行" in result.output and "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)


def test_a_refusal_in_a_single_command_is_a_clean_error(app):
    command = JishiCommand("refuse", callback=_refusing())
    result = app.test_cli_runner().invoke(command, [])
    assert result.exit_code == 1 and "测试：该操作未被执行" in result.output


def test_other_exceptions_are_not_swallowed(app):
    group = JishiGroup("bug-test")

    @group.command("bug")
    def bug():
        raise RuntimeError("a bug")

    result = app.test_cli_runner().invoke(group, ["bug"])
    assert result.exit_code == 1 and isinstance(result.exception, RuntimeError)


def test_every_command_of_the_app_turns_refusals_into_errors(app):
    """Every group and command create_app registers (all but Flask-Migrate's `db`): a new group made with
    a plain AppGroup would print a traceback for a refusal."""
    ours = {name: cmd for name, cmd in app.cli.commands.items() if name != "db"}
    assert {"units", "cases", "reconcile", "jishi"} <= set(ours)
    assert [name for name, cmd in ours.items() if not isinstance(cmd, RefusalsAsErrors)] == []


def test_an_unreadable_file_ends_the_command_with_its_message(app, tmp_path):
    txt = tmp_path / "units.txt"
    txt.write_text("单位代码,单位名称\n", encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["units", "import", str(txt)])
    assert result.exit_code == 1
    assert "只支持 .xlsx 或 .csv 文件" in result.output and "Traceback" not in result.output
