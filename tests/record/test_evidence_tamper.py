"""Tampering that `flask jishi verify` used to miss (issue 18, item 6), on the real database:

* a plain UPDATE of a submitted case's module row (verify now compares live rows with the snapshot);
* a forgery that rewrites a snapshot and recomputes its SHA-256 hashes (the HMAC seal, whose key is
  outside the database, no longer matches);
* TRUNCATE of an evidence table (PostgreSQL: a statement trigger refuses it);
* an application role that owns nothing (PostgreSQL): the whole case flow works as that role, and
  it can neither UPDATE, DELETE nor TRUNCATE evidence, nor switch the triggers off.
"""
from __future__ import annotations

import json
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, inspect, select, text
from sqlalchemy.exc import DBAPIError

import config
from app.extensions import db
from app.models import AppUser, Case, Signature, Submission, Unit
from app.models.case import STATUS_FIRST, STATUS_SECOND
from app.workflow import submission as wf
from app.workflow import verification
from app.record import evidence
from app.record.data import canonical_json, sha256_text
from app.spec import MODULE_KEYS
from tests.factories import (
    ADDED_ITEMS, is_pg, make_unit, make_user, tamper, to_first_submission, to_second_submission, unique,
)

EVIDENCE = ("audit_log", "rule_evaluation", "submission_record", "signature_record", "case_review", "alarm_event")


def _verify_cli(app, case_no):
    return app.test_cli_runner().invoke(args=["jishi", "verify", "--case-no", case_no])


def _kinds(breaks):
    return sorted(b["kind"] for b in breaks)


# ---- a clean flow -----------------------------------------------------------------------------------

def test_a_clean_flow_is_sealed_and_verifies(app, team):
    case, _, first, second = to_second_submission(team)
    assert verification.verify_all([case.root_id]) == []
    result = _verify_cli(app, case.case_no)
    assert result.exit_code == 0, result.output
    assert "全部 2 份提交与 3 个签字校验通过" in result.output
    # Every record carries its seal; the second submission is chained to the first.
    assert re.fullmatch(r"[0-9a-f]{64}", first.hmac) and re.fullmatch(r"[0-9a-f]{64}", second.hmac)
    assert second.prev_hmac == first.hmac  # nothing else was submitted in between (one test process)
    assert all(re.fullmatch(r"[0-9a-f]{64}", s.record_hmac or "") for s in wf.active_signatures(case).values())
    # The chain head, as printed on notices and reports, checks out.
    head = evidence.head_text()
    assert f"#{second.id}:{second.hmac[:16]}" in head
    assert evidence.check_head(head) is None
    assert "不符" in evidence.check_head(f"#{second.id}:{'0' * 16}")
    assert "已不在数据库中" in evidence.check_head("#999999999:0123456789abcdef")
    assert "格式" in evidence.check_head("乱写") and "格式" in evidence.check_head("#99999999999:0123456789abcdef")
    result = app.test_cli_runner().invoke(args=["jishi", "verify", "--case-no", case.case_no,
                                                "--head", f"#{second.id}:{'f' * 16}"])
    assert result.exit_code == 1 and "被改写" in result.output


def test_the_key_lives_outside_the_database(app, ctx, tmp_path, monkeypatch):
    """A key file is made on first use, readable by its owner only; JISHI_EVIDENCE_KEY wins."""
    path = tmp_path / "sub" / "evidence.key"
    monkeypatch.setitem(app.config, "JISHI_EVIDENCE_KEY_FILE", str(path))
    monkeypatch.setitem(app.config, "JISHI_EVIDENCE_KEY", "")
    assert evidence.load_key(create=False) is None and not path.exists()
    key = evidence.load_key()
    assert path.exists() and (path.stat().st_mode & 0o777) == 0o600
    assert evidence.load_key() == key == path.read_text().strip().encode()
    monkeypatch.setitem(app.config, "JISHI_EVIDENCE_KEY", "k" * 40)
    assert evidence.load_key() == b"k" * 40
    monkeypatch.setitem(app.config, "JISHI_EVIDENCE_KEY", "short")
    with pytest.raises(RuntimeError, match="32"):
        evidence.load_key()


def test_a_lost_or_different_key_is_reported(app, team, tmp_path, monkeypatch):
    case, _, _ = to_first_submission(team)
    monkeypatch.setitem(app.config, "JISHI_EVIDENCE_KEY", "")
    monkeypatch.setitem(app.config, "JISHI_EVIDENCE_KEY_FILE", str(tmp_path / "lost.key"))
    breaks = verification.verify_all([case.root_id])
    assert [(b["case_id"], b["kind"]) for b in breaks] == [(None, "key")] and "密钥缺失" in breaks[0]["message"]
    assert not (tmp_path / "lost.key").exists()  # verify never starts a new key by itself
    result = _verify_cli(app, case.case_no)
    assert result.exit_code == 1 and "密钥缺失" in result.output
    monkeypatch.setitem(app.config, "JISHI_EVIDENCE_KEY", "another-key-" + "x" * 32)
    kinds = _kinds(verification.verify_all([case.root_id]))
    assert kinds == ["seal"] * 4  # one submission and three signatures, none sealed with this key


# ---- live rows against the snapshot -------------------------------------------------------------------

def test_a_plain_update_of_a_submitted_module_row_fails_verify(app, team):
    case, values, sub = to_first_submission(team)
    root, original = case.root_id, values["motion"]["motion_reason"]
    assert verification.verify_all([root]) == []
    db.session.commit()
    db.session.execute(text("UPDATE case_motion SET motion_reason = :v WHERE case_id = :id"),
                       {"v": "事后改写的动议理由", "id": case.id})
    db.session.commit()
    try:
        breaks = verification.verify_all([root])
        assert [(b["case_id"], b["kind"], b["module"], b["field"]) for b in breaks] == [
            (case.id, "live_row", "motion", "motion_reason")]
        assert breaks[0]["snapshot"] == original and breaks[0]["live"] == "事后改写的动议理由"
        assert "motion_reason" in breaks[0]["message"] and "事后改写的动议理由" in breaks[0]["message"]
        result = _verify_cli(app, case.case_no)
        assert result.exit_code == 1
        assert case.case_no in result.output and "动议" in result.output and "motion_reason" in result.output
    finally:
        db.session.rollback()
        db.session.execute(text("UPDATE case_motion SET motion_reason = :v WHERE case_id = :id"),
                           {"v": original, "id": case.id})
        db.session.commit()
    assert verification.verify_all([root]) == []


def test_persons_and_status_are_compared_too(team):
    case, _, _ = to_first_submission(team)
    root = case.root_id
    person = db.session.execute(text("SELECT id, name FROM case_person WHERE case_id = :id ORDER BY id LIMIT 1"),
                                {"id": case.id}).first()
    db.session.commit()
    db.session.execute(text("UPDATE case_person SET name = '冒名者' WHERE id = :id"), {"id": person.id})
    db.session.execute(text("UPDATE cadre_case SET status = '草稿' WHERE id = :id"), {"id": case.id})
    db.session.commit()
    try:
        breaks = verification.verify_all([root])
        assert _kinds(breaks) == ["live_row", "status"]
        changed = next(b for b in breaks if b["kind"] == "live_row")
        assert "冒名者" in json.dumps(changed["live"], ensure_ascii=False)
        assert "草稿" in next(b for b in breaks if b["kind"] == "status")["message"]
    finally:
        db.session.rollback()
        db.session.execute(text("UPDATE case_person SET name = :n WHERE id = :id"), {"n": person.name, "id": person.id})
        db.session.execute(text("UPDATE cadre_case SET status = :s WHERE id = :id"), {"s": STATUS_FIRST, "id": case.id})
        db.session.commit()
    assert verification.verify_all([root]) == []


# ---- forgeries that recompute the plain hashes ------------------------------------------------------------

def _reseal_snapshot(sub_id, snapshot):
    """What a database writer can do: rewrite the snapshot and recompute its SHA-256 hashes."""
    data = json.loads(snapshot)
    content = sha256_text(canonical_json({k: data.get(k, {}) for k in MODULE_KEYS[:9]}))
    tamper("submission_record", "UPDATE submission_record SET snapshot = :s, sha256 = :h, content_sha256 = :c "
           "WHERE id = :id", s=snapshot, h=sha256_text(snapshot), c=content, id=sub_id)


def test_a_forgery_that_recomputes_the_sha256_hashes_fails_on_the_seal(app, team):
    case, values, first, second = to_second_submission(team)
    root, original = case.root_id, second.snapshot
    doc_no = values["appointment"]["appointment_doc_no"]
    data = json.loads(original)
    data["appointment"]["appointment_doc_no"] = "伪造文号〔2026〕1号"
    forged = canonical_json(data)
    db.session.commit()
    # The live row and the snapshot tell the same forged story; every SHA-256 is recomputed.
    db.session.execute(text("UPDATE case_appointment SET appointment_doc_no = :v WHERE case_id = :id"),
                       {"v": "伪造文号〔2026〕1号", "id": case.id})
    db.session.commit()
    _reseal_snapshot(second.id, forged)
    try:
        breaks = verification.verify_all([root])
        assert [(b["case_id"], b["kind"]) for b in breaks] == [(case.id, "seal")]
        assert f"#{second.id}" in breaks[0]["message"] and "HMAC" in breaks[0]["message"]
        result = _verify_cli(app, case.case_no)
        assert result.exit_code == 1 and "封存 HMAC 不符" in result.output
    finally:
        _reseal_snapshot(second.id, original)
        db.session.execute(text("UPDATE case_appointment SET appointment_doc_no = :v WHERE case_id = :id"),
                           {"v": doc_no, "id": case.id})
        db.session.commit()
    assert verification.verify_all([root]) == []


def test_a_signature_forged_with_a_recomputed_record_hash_fails_on_the_seal(team):
    case, _, _ = to_first_submission(team)
    sig = wf.active_signatures(case)[2]
    real_name, real_hash = sig.signer_name, sig.record_sha256
    forged = wf.signature_record_hash(case_id=sig.case_id, level=sig.level, signer_id=sig.signer_id,
                                      signer_name="替签人", post=sig.post, opinion=sig.opinion,
                                      signed_at=sig.signed_at, snapshot_sha256=sig.snapshot_sha256)
    tamper("signature_record", "UPDATE signature_record SET signer_name = '替签人', record_sha256 = :h WHERE id = :id",
           h=forged, id=sig.id)
    try:
        breaks = verification.verify_all([case.root_id])
        assert [(b["case_id"], b["kind"]) for b in breaks] == [(case.id, "seal")]
        assert "第 2 级签字" in breaks[0]["message"]
    finally:
        tamper("signature_record", "UPDATE signature_record SET signer_name = :n, record_sha256 = :h WHERE id = :id",
               n=real_name, h=real_hash, id=sig.id)
    assert verification.verify_all([case.root_id]) == []


def test_an_unsealed_record_inserted_below_the_application_fails(team):
    case, _, first = to_first_submission(team)
    forged = canonical_json(json.loads(first.snapshot))
    db.session.execute(insert(Submission).values(  # Core: below the application's listeners
        unit_id=case.unit_id, case_id=case.id, root_id=case.root_id, node=2, submitted_by_name="伪造者",
        snapshot=forged, sha256=sha256_text(forged), content_sha256=first.content_sha256, prev_sha256=first.sha256))
    try:
        kinds = [b["kind"] for b in verification.verify_all([case.root_id]) if b["case_id"] == case.id]
        assert "seal" in kinds  # no HMAC: not made by the application
    finally:
        db.session.rollback()


# ---- TRUNCATE ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("table", EVIDENCE + ("evaluation_run", "spot_check", "spot_check_item"))
def test_truncate_is_refused_on_evidence_tables(ctx, table):
    if not is_pg():
        pytest.skip("SQLite 没有 TRUNCATE（其 DELETE FROM 由既有的行触发器拒绝）")
    db.session.commit()
    try:
        with pytest.raises(DBAPIError) as exc:
            db.session.execute(text(f"TRUNCATE {table} CASCADE"))
        assert "不能清空" in str(exc.value) and table in str(exc.value)
    finally:
        db.session.rollback()  # were it not refused, the truncation is undone here


# ---- an application role that owns nothing ----------------------------------------------------------------

@pytest.fixture()
def app_role(app, ctx, db_url):
    """A login role with the grants of `flask jishi db-grants`; dropped afterwards."""
    if not is_pg():
        pytest.skip("数据库角色与权限只适用于 PostgreSQL")
    from app.infra import db_grants

    role = f"jishi_app_{unique('').lower()}"
    db.session.execute(text(f"CREATE ROLE {role} LOGIN"))
    db.session.commit()
    try:
        assert db_grants.role_problems(role) == []
        sql = db_grants.apply(role)
        assert f"GRANT SELECT, INSERT ON submission_record TO {role}" in sql
        yield role, db_url.replace("postgres@", f"{role}@", 1)
    finally:
        db.session.rollback()
        db.session.execute(text(f"DROP OWNED BY {role}"))
        db.session.execute(text(f"DROP ROLE {role}"))
        db.session.commit()


def test_db_grants_refuses_an_owner_and_prints_sql(app, ctx):
    if not is_pg():
        result = app.test_cli_runner().invoke(args=["jishi", "db-grants", "jishi_app"])
        assert result.exit_code != 0 and "PostgreSQL" in result.output
        return
    result = app.test_cli_runner().invoke(args=["jishi", "db-grants", "postgres"])
    assert result.exit_code != 0 and "超级用户" in result.output
    result = app.test_cli_runner().invoke(args=["jishi", "db-grants", "no_such_role_x"])
    assert result.exit_code != 0 and "不存在" in result.output
    result = app.test_cli_runner().invoke(args=["jishi", "db-grants", "Robert'); DROP TABLE x;--"])
    assert result.exit_code != 0 and "无效" in result.output


def test_the_app_runs_as_a_role_that_owns_nothing(app, world, team, app_role):
    from app import create_app

    role, url = app_role
    ids = {k: getattr(team, k).id for k in ("clerk", "s1", "s2", "s3")}
    unit_id = team.unit.id
    db.session.commit()
    restricted = create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=url)
    try:
        with restricted.app_context():
            assert db.session.execute(text("SELECT current_user")).scalar() == role
            # The whole flow (create, save, sign, submit) as the application role.
            as_role = SimpleNamespace(unit=db.session.get(Unit, unit_id),
                                      **{k: db.session.get(AppUser, v) for k, v in ids.items()})
            case, _, sub = to_first_submission(as_role)
            case_id = case.id
            assert case.status == STATUS_FIRST and sub.hmac
            assert verification.verify_all([case.root_id]) == []
            sig = db.session.execute(select(Signature).where(Signature.case_id == case.id)).scalars().first()
            # Voiding, the one change a signature allows, is granted (column privilege) ...
            db.session.execute(text("UPDATE signature_record SET void_reason = void_reason WHERE id = :id"),
                               {"id": sig.id})
            db.session.rollback()
            # ... anything else on evidence is refused by the database itself, before any trigger.
            for sql in (f"UPDATE submission_record SET snapshot = 'x' WHERE id = {sub.id}",
                        f"DELETE FROM submission_record WHERE id = {sub.id}",
                        "TRUNCATE submission_record",
                        f"UPDATE signature_record SET signer_name = 'x' WHERE id = {sig.id}",
                        f"DELETE FROM signature_record WHERE id = {sig.id}",
                        *(f"UPDATE {t} SET id = id" for t in EVIDENCE),
                        *(f"DELETE FROM {t}" for t in EVIDENCE),
                        *(f"TRUNCATE {t}" for t in EVIDENCE),
                        "ALTER TABLE submission_record DISABLE TRIGGER submission_record_immutable",
                        "ALTER TABLE audit_log DISABLE TRIGGER ALL",
                        "CREATE TABLE jishi_intruder (id integer)"):
                with pytest.raises(DBAPIError) as exc:
                    db.session.execute(text(sql))
                assert re.search(r"permission denied|must be owner|权限不够|必须是", str(exc.value)), (sql, exc.value)
                db.session.rollback()
            db.session.remove()
            db.engine.dispose()
    finally:
        restricted = None
    assert db.session.get(Case, case_id).status == STATUS_FIRST  # seen by the owner too


# ---- the upgrade seals what is already there ----------------------------------------------------------------

def test_the_upgrade_seals_the_records_already_there(app, tmp_path):
    """A database with submissions made before 0012 (here: downgraded one step, which drops the seals)
    is sealed by the upgrade, in one chain that verify accepts whole."""
    from flask_migrate import downgrade, upgrade

    from app import create_app
    from app.audit import acting_as

    url = f"sqlite:///{tmp_path}/before-0012.db"
    bootstrap = create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with bootstrap.app_context():
        upgrade()
        db.session.remove()
    other = create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=url)
    with other.app_context():
        sm = other.appbuilder.sm
        with acting_as("测试夹具", "cli"):
            unit = make_unit(unique("M"), unique("迁移单位"), None)
            db.session.add(unit)
            db.session.flush()
            roles = {"clerk": ["填报员", "签字领导"], "s1": ["签字领导"], "s2": ["签字领导"], "s3": ["签字领导"]}
            users = {k: make_user(sm, unique(k).lower(), r, unit.id) for k, r in roles.items()}
            db.session.commit()
        team_ = SimpleNamespace(unit=unit, **users)
        case_ids = [to_second_submission(team_)[0].id, to_first_submission(team_)[0].id]
        assert verification.verify_all() == []
        db.session.remove()

        downgrade(revision="0010")  # back to before the seals (0012), whatever came after it
        assert "hmac" not in {c["name"] for c in inspect(db.engine).get_columns("submission_record")}
        upgrade()
        db.session.remove()

        rows = db.session.execute(select(Submission.id, Submission.hmac, Submission.prev_hmac)
                                  .order_by(Submission.id)).all()
        assert len(rows) == 3 and all(r.hmac for r in rows)
        assert [r.prev_hmac for r in rows] == [None, rows[0].hmac, rows[1].hmac]
        # Going below 0012 also went below 0013, which dropped the issue 13 items' columns: those (and
        # only those) no longer match the snapshots; every value sealed before is intact.
        later = set(ADDED_ITEMS)
        breaks = verification.verify_all()
        assert {(b["kind"], b.get("field")) for b in breaks} <= {("live_row", key) for key in later}
        assert all(s.record_hmac for s in db.session.execute(select(Signature)).scalars())
        assert [db.session.get(Case, i).status for i in case_ids] == [STATUS_SECOND, STATUS_FIRST]
        db.session.remove()
        db.engine.dispose()
