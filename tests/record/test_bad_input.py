"""Bad input on the three write paths of a case — the module-save REST route, the module form and the
CLI import: each is refused with a Chinese message (HTTP 400/422, a form message, exit 1), never a
server error or a traceback, and nothing is written."""
from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.models import Case, Unit
from app.record.data import export_case, to_exchange
from tests.factories import (
    AGREE, POSTS, build_case, case_json, form_payload, login, make_user, sign_all, unique, valid_case,
)

CHINESE = re.compile(r"[\u4e00-\u9fff]")
DEPTH = 100_000  # far beyond Python's recursion limit


def _deep() -> str:
    return "[" * DEPTH + "]" * DEPTH


# (id, module, item, the value as a JSON fragment, what a browser would type — None: not a form input)
BAD = [
    ("nul-byte", "qualification", "resume", '"第一行\\u0000第二行"', "第一行\x00第二行"),
    ("control-char", "qualification", "current_post", '"区发展\\u0007改革委"', "区发展\x07改革委"),
    ("lone-surrogate", "qualification", "resume", '"简历\\ud800"', None),
    ("deep-json", "qualification", "resume", _deep(), None),
    ("deep-json-person", "nomination", "nominee_list", '[{"name": ' + _deep() + "}]", None),
    ("text-too-long", "qualification", "resume", json.dumps("字" * 10_001), "字" * 10_001),
    ("handler-too-long", "qualification", "handler", json.dumps("经" * 31), "经" * 31),
    ("person-name-too-long", "nomination", "nominee_list",
     json.dumps([{"name": "张明华"}, {"name": "李强"}, {"name": "王" * 31}], ensure_ascii=False),
     "张明华\n李强\n" + "王" * 31),
    ("person-post-too-long", "nomination", "nominee_list",
     json.dumps([{"name": "张明华"}, {"name": "李强"}, {"name": "王芳", "post": "职" * 101}], ensure_ascii=False),
     "张明华\n李强\n王芳，" + "职" * 101),
    ("person-post-not-text", "nomination", "nominee_list",
     '[{"name": "张明华"}, {"name": "李强"}, {"name": "王芳", "post": {"a": 1}}]', None),
    ("int-above-32-bits", "motion", "approved_quota", str(2**32), str(2**32)),
    ("int-above-64-bits", "motion", "approved_quota", str(10**30), str(10**30)),
    ("empty-list-as-text", "qualification", "full_name", "[]", None),
    ("empty-object-as-date", "qualification", "birth_date", "{}", None),
    ("fullwidth-digits", "qualification", "grassroots_months", '"１２３"', "１２３"),
    ("arabic-indic-digit", "qualification", "grassroots_months", '"٣"', "٣"),
    ("year-0001", "nomination", "upper_consult_date", '"0001-01-01"', "0001-01-01"),
    ("year-9999", "nomination", "nomination_date", '"9999-12-31"', "9999-12-31"),
]
IDS = [b[0] for b in BAD]


def _seed(client, module_key: str) -> int:
    """A new case of unit A with one module saved with good values."""
    resp = client.post("/api/v1/case/create")
    assert resp.status_code == 201, resp.get_json()
    case_id = resp.get_json()["id"]
    good = to_exchange({module_key: valid_case()[module_key]})[module_key]
    resp = client.put(f"/api/v1/case/{case_id}/module/{module_key}", json={**good, "handler": "甲", "leader": "乙"})
    assert resp.status_code == 200, resp.get_json()
    return case_id


def _stored(app, case_id: int, module_key: str):
    with app.app_context():
        case = db.session.get(Case, case_id)
        row = case.module_row(module_key)
        out = (export_case(case), row.handler, row.leader, row.state)
        db.session.remove()
        return out


@pytest.mark.parametrize("name,module_key,key,fragment,typed", BAD, ids=IDS)
def test_rest_module_save_refuses(app, client_for, name, module_key, key, fragment, typed):
    client = client_for("clerk_a")
    case_id = _seed(client, module_key)
    before = _stored(app, case_id, module_key)
    body = '{"%s": %s}' % (key, fragment)
    resp = client.put(f"/api/v1/case/{case_id}/module/{module_key}", data=body.encode("utf-8"),
                      content_type="application/json")
    assert resp.status_code in (400, 422), resp.get_data(as_text=True)[:500]
    assert CHINESE.search(resp.get_json()["message"]), resp.get_json()
    assert _stored(app, case_id, module_key) == before


def _messages(html: str) -> list[str]:
    problems = html.split('id="problems"')[1].split("</div>")[0] if 'id="problems"' in html else ""
    return re.findall(r"<li[^>]*>([^<]+)</li>", problems) + re.findall(r'class="help-block item-error">([^<]+)<', html)


@pytest.mark.parametrize("name,module_key,key,fragment,typed", [b for b in BAD if b[4] is not None],
                         ids=[b[0] for b in BAD if b[4] is not None])
def test_module_form_refuses(app, client_for, name, module_key, key, fragment, typed):
    client = client_for("clerk_a")
    case_id = _seed(client, module_key)
    before = _stored(app, case_id, module_key)
    payload = form_payload(valid_case()[module_key], module_key)
    payload.update({"handler": "甲", "leader": "乙", key: typed})
    resp = client.post(f"/cases/show/{case_id}/module/{module_key}", data=payload)
    assert resp.status_code == 200, resp.status_code
    messages = _messages(resp.get_data(as_text=True))
    assert messages and all(CHINESE.search(m) for m in messages), messages
    assert _stored(app, case_id, module_key) == before


def _case_file(app, world, module_key: str, key: str, fragment: str) -> str:

    with app.app_context():
        data = case_json(world)
    data[module_key][key] = "@@BAD@@"
    return json.dumps(data, ensure_ascii=False).replace('"@@BAD@@"', fragment)


@pytest.mark.parametrize("name,module_key,key,fragment,typed", [b for b in BAD if b[2] != "handler"],
                         ids=[b[0] for b in BAD if b[2] != "handler"])
def test_cli_import_refuses(app, world, tmp_path, name, module_key, key, fragment, typed):
    path = tmp_path / "case.json"
    path.write_text(_case_file(app, world, module_key, key, fragment), encoding="utf-8")
    with app.app_context():
        before = db.session.scalar(select(func.count(Case.id)))
        db.session.remove()
    result = app.test_cli_runner().invoke(args=["cases", "import", str(path)])
    assert result.exit_code == 1, (result.exit_code, result.output[-1000:], result.exception)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and CHINESE.search(result.output), result.output[-1000:]
    with app.app_context():
        assert db.session.scalar(select(func.count(Case.id))) == before


def test_good_values_at_the_limits_are_accepted(app, client_for):
    """The limits refuse nonsense, not real data: 30-character names, long text."""
    client = client_for("clerk_a")
    case_id = _seed(client, "qualification")
    resp = client.put(f"/api/v1/case/{case_id}/module/qualification",
                      json={"handler": "经" * 30, "resume": "字" * 10_000})
    assert resp.status_code == 200, resp.get_json()
    with app.app_context():
        row = db.session.get(Case, case_id).module_row("qualification")
        assert row.handler == "经" * 30 and len(row.resume) == 10_000
        db.session.remove()


# ---- a user whose name does not fit in a case ------------------------------------------------------

def _team(app, world):
    """Users of unit A for one workflow (as conftest's ``team``, in their own context)."""
    from types import SimpleNamespace

    from app.audit import acting_as

    tag = unique("long").lower()
    spec = {"clerk": ["填报员", "签字领导"], "s1": ["签字领导"], "s2": ["签字领导"], "s3": ["签字领导"]}
    with acting_as("测试夹具", "cli"):
        users = {k: make_user(app.appbuilder.sm, f"{k}_{tag}", roles, world.units["a"]) for k, roles in spec.items()}
        db.session.commit()
    return SimpleNamespace(unit=db.session.get(Unit, world.units["a"]), **users)


def _rename(username: str, first_name: str) -> None:
    from app.audit import acting_as
    from app.models import AppUser

    # An account named before the forms checked the full name (they refuse one this long now): set in SQL.
    with acting_as("测试夹具", "cli"):
        db.session.execute(update(AppUser).where(AppUser.username == username).values(first_name=first_name))
        db.session.commit()


def test_a_signer_or_submitter_whose_name_is_too_long_is_refused_in_chinese(app, world):
    """The signer's and the submitter's names become persons of the case (30 characters at most):
    a longer account name is refused with a message, not a database error, and nothing is written."""
    from app.audit import acting_as
    from app.models import Signature, Submission
    from app.workflow import submission as wf

    with app.app_context():
        team = _team(app, world)
        case, _ = build_case(team)
        case_id, names = case.id, {k: getattr(team, k).username for k in ("clerk", "s1")}
        _rename(names["s1"], "长" * 40)
        db.session.remove()
    s1 = login(app.test_client(), names["s1"])
    resp = s1.post(f"/api/v1/case/{case_id}/sign", json={"level": 1, "post": POSTS[1], "opinion": AGREE})
    assert resp.status_code == 400 and "账户姓名" in resp.get_json()["message"], resp.get_data(as_text=True)[:300]

    with app.app_context():
        assert db.session.scalar(select(func.count(Signature.id)).where(Signature.case_id == case_id)) == 0
        _rename(names["s1"], "签字一")
        _rename(names["clerk"], "提" * 31)
        team = _team(app, world)  # fresh signers; the case's own clerk submits
        case = db.session.get(Case, case_id)
        sign_all(case, team)
        clerk = db.session.execute(select(type(team.s1)).where(type(team.s1).username == names["clerk"])).scalar_one()
        with acting_as(clerk, "cli"):
            wf.set_pledge(case, clerk, True)
        db.session.remove()
    resp = login(app.test_client(), names["clerk"]).post(f"/api/v1/case/{case_id}/submit/1")
    assert resp.status_code == 400 and "账户姓名" in resp.get_json()["message"], resp.get_data(as_text=True)[:300]
    with app.app_context():
        assert db.session.scalar(select(func.count(Submission.id)).where(Submission.case_id == case_id)) == 0
        assert db.session.get(Case, case_id).status == "草稿"
        db.session.remove()


# ---- FAB's sort argument -----------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "/cases/list/?_oc_CaseView=unit&_od_CaseView=asc",
    "/cases/list/?_oc_CaseView=batch&_od_CaseView=desc",
    "/cases/list/?_oc_CaseView=no_such_column&_od_CaseView=asc",
    "/batchview/list/?_oc_BatchView=unit&_od_BatchView=asc",
])
def test_sorting_by_a_related_or_unknown_column_is_refused_with_a_message(client_for, url):
    client = client_for("sup_a")
    resp = client.get(url)
    assert resp.status_code == 302 and "_oc_" not in resp.headers["Location"]
    page = client.get(resp.headers["Location"])
    assert page.status_code == 200 and "排序列无效" in page.get_data(as_text=True)


def test_sorting_by_a_listed_column_still_works(client_for):
    assert client_for("sup_a").get("/cases/list/?_oc_CaseView=case_no&_od_CaseView=asc").status_code == 200


def test_rest_sort_by_a_related_column_is_a_400(client_for):
    resp = client_for("sup_a").get("/api/v1/case/?q=(order_column:unit,order_direction:asc)")
    assert resp.status_code == 400


# ---- database errors -------------------------------------------------------------------------------

def test_a_new_case_skips_a_number_an_imported_case_already_has(app, world, client_for):
    """Case numbers were counted: an imported case numbered ahead of the count made the next new case
    collide on the unique number (a 500)."""

    client = client_for("clerk_a")
    with app.app_context():
        code = db.session.get(Unit, world.units["a"]).code
        prefix = f"{code}-{dt.date.today().year}-"
        count = db.session.scalar(select(func.count(func.distinct(Case.case_no))).where(Case.case_no.startswith(prefix)))
        data = case_json(world)
        db.session.remove()
    ahead = f"{prefix}{count + 2:04d}"
    data["motion"]["case_no"] = ahead
    assert client.post("/api/v1/case/import", json=data).status_code == 201
    first = client.post("/api/v1/case/create")
    second = client.post("/api/v1/case/create")
    assert first.status_code == 201 and second.status_code == 201, (first.get_data(as_text=True)[:300])
    assert {first.get_json()["case_no"], second.get_json()["case_no"]}.isdisjoint({ahead})


def test_an_unexpected_database_error_on_a_write_is_a_chinese_400_and_rolled_back(app, db_url):
    """The safety net: a write the checks did not foresee fails in the database — the user gets a
    Chinese 400 (JSON under /api/, a page elsewhere), the session is rolled back and usable."""
    import config
    from app import create_app
    from app.audit import acting_as

    session_app, app = app, create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=db_url, FAB_UPDATE_PERMS=False)
    session_app.extensions["celery"].set_default()  # the new app took Celery's default: give it back
    code = f"DUP{dt.datetime.now():%H%M%S%f}"

    def duplicate_unit():
        with acting_as("测试", "cli"):
            for _ in range(2):  # the second insert breaks the unique code in the database itself
                db.session.add(Unit(code=code, name=f"重复{code}", parent=None, level="市", unit_type="政府",
                                    max_grade="县处级正职", authority="处级任免权", region_code="420100"))
                db.session.flush()
        return "written"

    app.add_url_rule("/api/v1/_test_duplicate", "api_duplicate", duplicate_unit, methods=["POST"])
    app.add_url_rule("/_test_duplicate", "page_duplicate", duplicate_unit, methods=["POST"])
    client = app.test_client()
    resp = client.post("/api/v1/_test_duplicate")
    assert resp.status_code == 400 and CHINESE.search(resp.get_json()["message"]), resp.get_data(as_text=True)[:300]
    resp = client.post("/_test_duplicate")
    assert resp.status_code == 400 and "未写入任何数据" in resp.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(Unit.id)).where(Unit.code == code)) == 0
        db.session.remove()


# ---- query arguments FAB would answer with a 500 ------------------------------------------------------

@pytest.mark.parametrize("url", [
    "/api/v1/case/?q=(filters:!((col:full_name,opr:ct,value:'a%00b')))",
    "/api/v1/case/?q=" + "(" * 5000 + ")" * 5000,
    "/api/v1/case/?q=(page:-5,page_size:10)",
    "/api/v1/case_motion/?q=(filters:!((col:case_id,opr:eq,value:99999999999999999999)))",
    "/cases/list/?_flt_0_case_no=a%00b",
], ids=["nul-in-filter", "deep-rison", "negative-page", "huge-int-filter", "nul-in-form-filter"])
def test_bad_query_arguments_are_a_chinese_400(client_for, url):
    resp = client_for("sup_a").get(url)
    assert resp.status_code == 400, resp.get_data(as_text=True)[:300]
    text = resp.get_json()["message"] if url.startswith("/api/") else resp.get_data(as_text=True)
    assert CHINESE.search(text)
