"""Web hardening (issue 18): the session key of a default install, formula injection in the Excel
exports, cross-site writes to the REST API, security headers, and a queue that is down."""
from __future__ import annotations

import multiprocessing
import os
import stat

import pytest

import config
from tests.factories import PASSWORD, login, unique

# The development key this repository once committed: a cookie signed with it must open nothing.
PUBLISHED_KEY = "jishi-development-secret-not-for-production"


def _signed_session(secret_key: str, data: dict) -> str:
    from flask import Flask
    from flask.sessions import SecureCookieSessionInterface

    signer = Flask("signer")
    signer.secret_key = secret_key
    return SecureCookieSessionInterface().get_signing_serializer(signer).dumps(data)


def _default_app(db_url, key_file):
    """An app on the shipped configuration (no SECRET_KEY given), not the test one."""
    from app import create_app

    return create_app(config.Config, SQLALCHEMY_DATABASE_URI=db_url, SECRET_KEY_FILE=str(key_file),
                      FAB_UPDATE_PERMS=False, AUTH_RATE_LIMITED=False, RATELIMIT_ENABLED=False)


def _admin_session(app, world) -> dict:
    """What a signed-in admin's session holds: the user id and the user's session token."""
    from app.auth import SESSION_KEY, ensure_session_token

    with app.app_context():
        admin = app.appbuilder.sm.find_user(username=world.users["admin"])
        return {"_user_id": str(admin.id), "_fresh": True, SESSION_KEY: ensure_session_token(admin)}


# ---- the session key ---------------------------------------------------------------------------

def test_a_cookie_signed_with_the_published_key_opens_nothing(app, world, db_url, tmp_path):
    default = _default_app(db_url, tmp_path / "secret_key")
    # Even knowing the admin's session token, the published key opens nothing.
    forged = _signed_session(PUBLISHED_KEY, _admin_session(default, world))
    client = default.test_client()
    client.set_cookie(default.config["SESSION_COOKIE_NAME"], forged)
    resp = client.get("/users/list/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    # The same cookie signed with this install's own key does open the page: the forgery itself was sound.
    genuine = _signed_session(default.secret_key, _admin_session(default, world))
    client = default.test_client()
    client.set_cookie(default.config["SESSION_COOKIE_NAME"], genuine)
    assert client.get("/users/list/").status_code == 200


def test_the_install_key_is_private_and_kept(app, db_url, tmp_path):
    key_file = tmp_path / "instance" / "secret_key"
    first = _default_app(db_url, key_file)
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(first.secret_key) >= 32 and first.secret_key != PUBLISHED_KEY
    assert first.secret_key == key_file.read_text().strip()
    second = _default_app(db_url, key_file)
    assert second.secret_key == first.secret_key  # sessions survive a restart


def _load_key(path, queue):
    from app.instance_secret import load_or_create

    queue.put(load_or_create(path))


def test_processes_starting_together_share_one_key(tmp_path):
    path = tmp_path / "secret_key"
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    procs = [ctx.Process(target=_load_key, args=(path, queue)) for _ in range(6)]
    for p in procs:
        p.start()
    keys = {queue.get(timeout=30) for _ in procs}
    for p in procs:
        p.join(timeout=30)
    assert len(keys) == 1 and keys == {path.read_text().strip()}
    assert [f.name for f in tmp_path.iterdir()] == ["secret_key"]  # no temporary file left behind


def test_a_too_open_key_file_is_made_private(tmp_path):
    from app.instance_secret import load_or_create

    path = tmp_path / "secret_key"
    path.write_text("k" * 48)
    path.chmod(0o644)
    assert load_or_create(path) == "k" * 48
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_production_refuses_a_weak_or_missing_key(app, db_url, tmp_path):
    from app import create_app

    key_file = tmp_path / "secret_key"
    for weak in ("", PUBLISHED_KEY, "short-key"):
        with pytest.raises(RuntimeError, match="SECRET_KEY"):
            create_app(config.Config, SQLALCHEMY_DATABASE_URI=db_url, JISHI_ENV="production", SECRET_KEY=weak,
                       SECRET_KEY_FILE=str(key_file), FAB_UPDATE_PERMS=False)
    assert not key_file.exists()  # production never makes up a key of its own
    with pytest.raises(RuntimeError, match="已公开"):
        create_app(config.Config, SQLALCHEMY_DATABASE_URI=db_url, SECRET_KEY=PUBLISHED_KEY, FAB_UPDATE_PERMS=False)


def test_no_session_key_is_committed():
    source = open(config.__file__, encoding="utf-8").read()
    assert PUBLISHED_KEY not in source
    assert not hasattr(config, "DEV_SECRET_KEY")


# ---- formula injection in the Excel exports ----------------------------------------------------

# Text a spreadsheet would run: a DDE call, arithmetic, an @-function, leading tab and carriage return.
DANGEROUS = ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(1,2)", "\t=1+1", "\r=1+1", "=HYPERLINK(\"http://x\")"]
HARMLESS = ["张三", "a=b", "external:c:\\evil.exe", "http://evil.example/"]


def _cells(path_or_bytes):
    """Every non-empty cell of every sheet: (value, data type, quote prefix)."""
    import io

    from openpyxl import load_workbook

    src = io.BytesIO(path_or_bytes) if isinstance(path_or_bytes, bytes) else path_or_bytes
    book = load_workbook(src)
    return [(c.value, c.data_type, c.quotePrefix, c.hyperlink)
            for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


def _assert_text_kept(cells, texts):
    assert not [c for c in cells if c[1] == "f"], "a cell became a formula"
    assert not [c for c in cells if c[3] is not None], "a cell became a link"
    by_value = {c[0]: c for c in cells}
    for text in texts:
        read = text.replace("\r", "_x000D_")  # xlsx's escape of a carriage return (Excel reads it back, openpyxl not)
        assert read in by_value, f"{text!r} is missing"
        value, kind, quoted, _ = by_value[read]
        assert kind == "s"
        assert quoted == (text[0] in "=+-@\t\r"), text  # Excel's quote prefix: shown as is, edited as text


@pytest.mark.parametrize("how", ["row", "plain_row"])
def test_report_workbooks_write_formula_text_as_text(tmp_path, how):
    """app.reporting.xlsx.Writer (statistics, notices, responsibility, scheduled reports, query exports):
    the stock per-cell path (row) and the direct-XML path (plain_row) alike; numbers stay numbers."""
    from app.reporting.xlsx import Sheet, Writer

    path = tmp_path / "w.xlsx"
    w = Writer(str(path))
    w.sheet(Sheet("标题", unit="=单位", headers=["甲", "乙", "丙"]))
    for text in DANGEROUS + HARMLESS:
        getattr(w, how)([text, -5, -1.5])
    w.row(["=合计", -7], total=True, merge_down={0: 2})
    w.row(["", 1])
    w.close()
    cells = _cells(path)
    _assert_text_kept(cells, DANGEROUS + HARMLESS)
    numbers = [c for c in cells if isinstance(c[0], (int, float))]
    assert {c[0] for c in numbers} >= {-5, -1.5, -7} and all(c[1] == "n" for c in numbers)
    assert ("=合计", "s", True, None) in cells


def test_list_exports_write_formula_text_as_text(tmp_path):
    """The scoped list export of every view (app.reporting.export_log.write_xlsx)."""
    from app.reporting.export_log import write_xlsx

    path, count = write_xlsx("=标题", "-副标题", ["列"], [[t, -4] for t in DANGEROUS + HARMLESS])
    try:
        cells = _cells(path)
    finally:
        os.unlink(path)
    _assert_text_kept(cells, DANGEROUS + HARMLESS + ["=标题"])
    assert (-4, "n", False, None) in cells and count == len(DANGEROUS + HARMLESS)


def test_no_workbook_bypasses_the_safe_writer():
    """Every workbook of the app is written by app.reporting.xlsx.SafeWorkbook."""
    import pathlib
    import re

    bypass = re.compile(r"^\s*(import|from)\s+xlsxwriter|(?<!Safe)Workbook\(|csv\.(writer|DictWriter)", re.M)
    root = pathlib.Path(config.BASE_DIR) / "app"
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.name != "xlsx.py" and bypass.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def _document(app, world, post):
    import datetime as dt

    from app.audit import acting_as
    from app.extensions import db
    from app.models import AppointmentDocument

    with app.app_context(), acting_as("测试夹具", "cli"):
        doc = AppointmentDocument(doc_no=unique("=文号"), doc_date=dt.date(2026, 1, 5), unit_id=world.units["a"],
                                  person_name="-张三", post=post, imported_by_name="测试夹具")
        db.session.add(doc)
        db.session.commit()
        return doc.doc_no


def test_the_documents_export_of_an_imported_formula_is_text(app, world, client_for):
    doc_no = _document(app, world, "=cmd|' /C calc'!A0")
    resp = client_for("sup_a").get(f"/documents/export.xlsx?_flt_0_doc_no={doc_no}")
    assert resp.status_code == 200
    cells = _cells(resp.data)
    assert not [c for c in cells if c[1] == "f"]
    assert ("=cmd|' /C calc'!A0", "s", True, None) in cells and (doc_no, "s", True, None) in cells
    assert ("-张三", "s", True, None) in cells


def test_the_audit_log_export_of_a_formula_is_text(app, world, client_for):
    from app.audit import acting_as
    from app.extensions import db
    from app.models import AppUser, SavedQuery

    name = f'=HYPERLINK("http://evil.example","{unique()}")'
    with app.app_context(), acting_as("测试夹具", "cli"):
        user = db.session.query(AppUser).filter_by(username=world.users["clerk_a"]).one()
        saved = SavedQuery(user_id=user.id, unit_id=world.units["a"], name=name, params={})
        db.session.add(saved)
        db.session.commit()
        pk = saved.id
    resp = client_for("sup_a").get(f"/auditlogview/export.xlsx?_flt_0_table_name=saved_query&_flt_3_record_id={pk}")
    assert resp.status_code == 200
    cells = _cells(resp.data)
    assert not [c for c in cells if c[1] == "f" or c[3] is not None]
    assert (name, "s", True, None) in cells


def test_quoted_rows_are_the_same_bytes_on_both_paths(tmp_path):
    """The direct-XML rows give the quote-prefixed cells exactly as the stock per-cell writes do."""
    import datetime as dt
    import zipfile

    from app.reporting.xlsx import Sheet, Writer

    sheets = {}
    for how in ("row", "plain_row"):
        path = tmp_path / f"{how}.xlsx"
        w = Writer(str(path))
        w.sheet(Sheet("名册", headers=["甲", "乙", "丙"]))
        for text in DANGEROUS + HARMLESS:
            getattr(w, how)([text, -3, dt.date(2026, 3, 1)])
            getattr(w, how)(["普通", text, None])
        w.close()
        with zipfile.ZipFile(path) as z:
            sheets[how] = (z.read("xl/worksheets/sheet1.xml"), z.read("xl/styles.xml"))
    assert sheets["row"] == sheets["plain_row"]


# ---- cross-site writes to the REST API ---------------------------------------------------------

def _case_count(app) -> int:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import Case

    with app.app_context():
        n = db.session.execute(select(func.count(Case.id))).scalar()
        db.session.remove()
        return n


@pytest.fixture()
def cookie_client(client_for):
    """clerk_a logged in by cookie, sending only what a foreign page can make the browser send."""
    client = client_for("clerk_a")
    token = client.environ_base.pop("HTTP_X_CSRFTOKEN")
    return client, token


def test_a_cross_site_api_write_is_refused(app, cookie_client):
    client, _ = cookie_client
    before = _case_count(app)
    resp = client.post("/api/v1/case/create", data="{}",
                       headers={"Origin": "http://evil.example", "Content-Type": "text/plain"})
    assert resp.status_code == 403
    assert "跨站" in resp.get_json()["message"]
    assert resp.headers["Content-Type"].startswith("application/json")
    assert _case_count(app) == before


@pytest.mark.parametrize("headers, refusal", [
    ({}, "安全令牌"),  # same origin, no token
    ({"X-CSRFToken": "forged"}, "安全令牌"),
    ({"X-CSRFToken": None, "Origin": "http://evil.example"}, "跨站"),  # the token, from another site
    ({"X-CSRFToken": None, "Referer": "http://evil.example/page"}, "跨站"),
    ({"X-CSRFToken": None, "Origin": "null"}, "跨站"),
])
def test_api_writes_need_the_token_and_this_origin(app, cookie_client, headers, refusal):
    client, token = cookie_client
    headers = {k: (token if v is None else v) for k, v in headers.items()}
    before = _case_count(app)
    for method, url in (("post", "/api/v1/case/create"), ("put", "/api/v1/case/1/module/qualification"),
                        ("delete", "/api/v1/case/1"), ("patch", "/api/v1/case/1")):
        resp = getattr(client, method)(url, json={}, headers=headers)
        assert resp.status_code == 403, (method, url)
        assert refusal in resp.get_json()["message"]
    assert _case_count(app) == before


def test_the_app_s_own_writes_pass(app, cookie_client, monkeypatch):
    client, token = cookie_client
    before = _case_count(app)
    for headers in ({"X-CSRFToken": token}, {"X-CSRFToken": token, "Origin": "http://localhost"},
                    {"X-CSRFToken": token, "Referer": "http://localhost/cases/list/"}):
        assert client.post("/api/v1/case/create", headers=headers).status_code == 201
    monkeypatch.setitem(app.config, "JISHI_TRUSTED_ORIGINS", ("https://jishi.example.gov.cn",))
    resp = client.post("/api/v1/case/create", headers={"X-CSRFToken": token, "Origin": "https://jishi.example.gov.cn"})
    assert resp.status_code == 201
    assert _case_count(app) == before + 4
    assert client.get("/api/v1/case/").status_code == 200  # reads need nothing


def test_a_bearer_token_call_needs_no_csrf_token(app, world, cookie_client):
    from flask_jwt_extended import create_access_token

    client, _ = cookie_client
    with app.app_context():
        user_id = app.appbuilder.sm.find_user(username=world.users["clerk_a"]).id
        jwt = create_access_token(identity=str(user_id), fresh=True)
    resp = client.post("/api/v1/case/create", headers={"Authorization": f"Bearer {jwt}", "Origin": "http://other.example"})
    assert resp.status_code == 201
    anonymous = app.test_client()  # no cookie: nothing to borrow, FAB's own check answers
    assert anonymous.post("/api/v1/case/create").status_code == 401


# ---- security headers --------------------------------------------------------------------------

def _nonce(resp) -> str | None:
    import re

    m = re.search(r"script-src 'self' 'nonce-([^']+)'", resp.headers["Content-Security-Policy"])
    return m.group(1) if m else None


def _assert_protected(resp):
    csp = resp.headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    # no other host, no wildcard, no inline script or eval allowed by the policy
    assert "http" not in csp and "*" not in csp and "unsafe-eval" not in csp
    assert "'unsafe-inline'" not in csp.replace("style-src-attr 'unsafe-inline'", "")
    assert resp.headers["X-Frame-Options"] == "DENY"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Referrer-Policy"] in {"same-origin", "no-referrer", "strict-origin-when-cross-origin"}


def test_pages_api_answers_and_downloads_carry_the_headers_and_are_not_cached(app, client_for):
    anonymous = app.test_client()
    admin = client_for("admin")
    for client, path in ((anonymous, "/login/"), (admin, "/cases/list/"), (admin, "/api/v1/case/"),
                         (admin, "/auditlogview/export.xlsx"), (anonymous, "/no-such-page")):
        resp = client.get(path)
        _assert_protected(resp)
        assert resp.headers["Cache-Control"] == "no-store", path
    refused = client_for("clerk_a").post("/api/v1/case/create", headers={"X-CSRFToken": ""})
    assert refused.status_code == 403
    _assert_protected(refused)


def test_static_files_may_be_cached(app):
    resp = app.test_client().get("/static/appbuilder/css/bootstrap.min.css")
    assert resp.status_code == 200
    _assert_protected(resp)
    assert "no-store" not in resp.headers.get("Cache-Control", "")


def test_every_inline_script_and_style_carries_the_page_nonce(app, world, client_for):
    """All pages the administrator can GET (as in test_no_external_assets): the policy allows inline
    code only with this answer's nonce, so a script without it would be dead in the browser."""
    import re

    from tests.web.support import crawlable

    admin = client_for("admin")
    rules = sorted({r.rule for r in app.url_map.iter_rules() if crawlable(r)})
    seen, nonces = 0, set()
    for path in rules + ["/login/", f"/unitview/show/{world.units['a']}"]:
        resp = (app.test_client() if path == "/login/" else admin).get(path)
        if resp.status_code != 200 or resp.mimetype != "text/html":
            continue
        _assert_protected(resp)
        nonce = _nonce(resp)
        page = resp.get_data(as_text=True)
        tags = re.findall(r"<(?:script|style)\b[^>]*>", page, re.I)
        if tags:
            assert nonce, path
            nonces.add(nonce)
        assert [t for t in tags if f'nonce="{nonce}"' not in t] == [], path
        assert not re.search(r"\son[a-z]+\s*=\s*[\"']", page, re.I), f"inline event handler on {path}"
        assert "javascript:" not in page.lower(), path
        seen += 1
    assert seen > 20 and len(nonces) == seen  # a fresh nonce for every answer


# The pages a browser loads under the policy: lists with search filters (select2), forms with date
# pickers, the workbench, statistics, the query builder, the monitor (fetch), a record page.
BROWSER_PAGES = ["/", "/cases/list/", "/unitview/list/", "/unitview/add", "/users/add", "/monitor/",
                 "/statistics/", "/statistics/rules", "/query/", "/notices/list/", "/spotchecks/draw",
                 "/auditlogview/list/", "/rules/", "/patrol/", "/reconcile/", "/swagger/v1"]
_WATCH_CSP = ("window.__csp = []; document.addEventListener('securitypolicyviolation', "
              "e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile + ':' + e.lineNumber));")


def test_the_policy_breaks_no_page_in_a_browser(chromium, live_server, world):
    """Chromium loads the pages under the real headers: no violation of the policy, no script error;
    the app's jQuery writes carry the token by themselves, a bare fetch() without it is refused."""
    from tests.web.support import CHROMIUM_ARGS

    executable, sync_playwright, _ = chromium
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
            page.set_default_timeout(15_000)
            page.add_init_script(_WATCH_CSP)
            page.on("pageerror", lambda exc: problems.append(f"{page.url}: {exc}"))
            page.on("console", lambda msg: problems.append(f"{page.url}: {msg.text}")
                    if "Content Security Policy" in msg.text else None)
            page.goto(f"{live_server}/login/")
            page.locator("input[name=username]").fill(world.users["admin"])
            page.locator("input[name=password]").fill(PASSWORD)
            with page.expect_navigation():
                page.locator("form [type=submit]").click()
            for path in BROWSER_PAGES:
                resp = page.goto(f"{live_server}{path}")
                assert resp is not None and resp.status == 200, path
                page.wait_for_load_state("networkidle")
                problems += [f"{path}: {v}" for v in page.evaluate("window.__csp")]
            assert page.evaluate("typeof jQuery.fn.select2") == "function"  # the scripts did run
            # Swagger UI's "Try it out" sends the token too.
            page.goto(f"{live_server}/swagger/v1")
            sent = page.evaluate("ui.getConfigs().requestInterceptor({headers: {}}).headers['X-CSRFToken']")
            assert sent and sent == page.evaluate("document.querySelector('meta[name=\"csrf-token\"]').content")

            # A clerk (with a unit) writes through the API as the app's own pages do.
            page.context.clear_cookies()
            page.goto(f"{live_server}/login/")
            page.locator("input[name=username]").fill(world.users["clerk_a"])
            page.locator("input[name=password]").fill(PASSWORD)
            with page.expect_navigation():
                page.locator("form [type=submit]").click()
            page.goto(f"{live_server}/cases/list/")
            status = page.evaluate("""() => new Promise(done => jQuery.ajax({url: '/api/v1/case/create', type: 'POST'})
                                                             .always((a, b, c) => done((c && c.status) || a.status)))""")
            assert status == 201
            bare = page.evaluate("() => fetch('/api/v1/case/create', {method: 'POST'}).then(r => r.status)")
            assert bare == 403
        finally:
            browser.close()
    assert problems == []


# ---- a queue that is down ----------------------------------------------------------------------

def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_queueing_with_redis_down_fails_fast_in_chinese(app, world, db_url):
    import time

    from app import create_app

    down = f"redis://127.0.0.1:{_closed_port()}/0"
    web = create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=db_url, FAB_UPDATE_PERMS=False,
                     CELERY={"broker_url": down, "result_backend": down, "task_ignore_result": True})
    client = login(web.test_client(), world.users["admin"])
    started = time.monotonic()
    resp = client.post("/taskruns/scan", follow_redirects=True)
    elapsed = time.monotonic() - started
    assert resp.status_code == 200
    assert "任务队列暂不可用" in resp.get_data(as_text=True)
    assert elapsed < 5, f"queueing took {elapsed:.1f} s"


def test_the_timeouts_are_defaults_not_overrides():
    from app.tasks import with_short_timeouts

    given = {"broker_url": "redis://r/0", "result_backend": "redis://r/1", "broker_connection_timeout": 9,
             "broker_transport_options": {"socket_timeout": 30}}
    conf = with_short_timeouts(given, 1)
    assert conf["broker_connection_timeout"] == 9 and conf["broker_transport_options"]["socket_timeout"] == 30
    assert conf["broker_transport_options"]["socket_connect_timeout"] == 1
    assert conf["result_backend_transport_options"]["retry_policy"]["max_retries"] == 0
    assert "broker_transport_options" not in given or given["broker_transport_options"] == {"socket_timeout": 30}
    embedded = {"broker_url": "sqla+sqlite:///x.db", "result_backend": "db+sqlite:///y.db"}
    assert with_short_timeouts(embedded, 1) == embedded  # the SQLite broker has no sockets
