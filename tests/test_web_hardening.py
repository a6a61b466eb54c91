"""Web hardening (issue 18): the session key of a default install, formula injection in the Excel
exports, cross-site writes to the REST API, security headers, and a queue that is down."""
from __future__ import annotations

import multiprocessing
import os
import stat

import pytest

import config
from tests.conftest import PASSWORD, unique

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


def _admin_id(app, world) -> int:
    with app.app_context():
        return app.appbuilder.sm.find_user(username=world.users["admin"]).id


# ---- the session key ---------------------------------------------------------------------------

def test_a_cookie_signed_with_the_published_key_opens_nothing(app, world, db_url, tmp_path):
    default = _default_app(db_url, tmp_path / "secret_key")
    admin_id = _admin_id(default, world)
    forged = _signed_session(PUBLISHED_KEY, {"_user_id": str(admin_id), "_fresh": True})
    client = default.test_client()
    client.set_cookie(default.config["SESSION_COOKIE_NAME"], forged)
    resp = client.get("/users/list/")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]
    # The same cookie signed with this install's own key does open the page: the forgery itself was sound.
    genuine = _signed_session(default.secret_key, {"_user_id": str(admin_id), "_fresh": True})
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
    """app.reports.xlsx.Writer (statistics, notices, responsibility, scheduled reports, query exports):
    the stock per-cell path (row) and the direct-XML path (plain_row) alike; numbers stay numbers."""
    from app.reports.xlsx import Sheet, Writer

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
    """The scoped list export of every view (app.services.export.write_xlsx)."""
    from app.services.export import write_xlsx

    path, count = write_xlsx("=标题", "-副标题", ["列"], [[t, -4] for t in DANGEROUS + HARMLESS])
    try:
        cells = _cells(path)
    finally:
        os.unlink(path)
    _assert_text_kept(cells, DANGEROUS + HARMLESS + ["=标题"])
    assert (-4, "n", False, None) in cells and count == len(DANGEROUS + HARMLESS)


def test_no_workbook_bypasses_the_safe_writer():
    """Every workbook of the app is written by app.reports.xlsx.SafeWorkbook."""
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

    from app.reports.xlsx import Sheet, Writer

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
