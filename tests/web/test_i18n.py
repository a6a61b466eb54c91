"""Chinese by default, English switchable, every string of ours translated."""
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]


def test_chinese_by_default(client_for):
    html = client_for("admin").get("/unitview/list/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html
    for text in ("单位列表", "单位代码", "组织机构", "痕迹管理", "用户组"):
        assert text in html, text
    assert "List Groups" not in html


def test_english_is_switchable(client_for):
    client = client_for("admin")
    assert client.get("/lang/en").status_code == 302
    html = client.get("/unitview/list/").get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "Unit code" in html and "Organisation" in html
    assert "单位代码" not in html
    client.get("/lang/zh")
    assert "单位代码" in client.get("/unitview/list/").get_data(as_text=True)


def test_every_string_has_an_english_translation():
    with (ROOT / "app/translations/en/LC_MESSAGES/messages.po").open("rb") as f:
        catalog = read_po(f)
    method_map = [("app/**.py", "python"), ("app/templates/**.html", "jinja2")]
    missing = []
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(ROOT), method_map, keywords={"_": None, "lazy_gettext": None, "gettext": None},
    ):
        msgid = message if isinstance(message, str) else message[0]
        entry = catalog.get(msgid)
        if not entry or not entry.string:
            missing.append(msgid)
    assert missing == [], f"add English for: {missing}"


def test_error_pages_are_in_the_users_language(app, world, client_for):
    client = client_for("clerk_a")
    resp = client.get(f"/unitview/show/{world.units['b']}")
    assert resp.status_code == 404
    html = resp.get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "未找到" in html and "不在您的权限范围内" in html
    assert world.names["b"] not in html
    assert client.get("/no/such/page").status_code == 404
    api = client.get("/api/v1/no_such_api/")
    assert api.status_code == 404


def test_booleans_read_as_chinese(client_for, world):
    html = client_for("admin").get("/unitview/list/").get_data(as_text=True)
    assert "False" not in html and "True" not in html
