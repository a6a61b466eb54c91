"""Writes that race: a save against 初次提交, two clerks on one module form, concurrent API saves.

The race tests run two (or more) real HTTP clients in threads, each request with its own app
context, session and database connection; on PostgreSQL they overlap for real (row locks). The
stale-version tests need no threads: the version each writer was based on decides.
"""
from __future__ import annotations

import datetime as dt
import json
import random
import re
import threading
import time

import pytest
from sqlalchemy import select

from app.audit import acting_as
from app.extensions import db
from app.models import Case, Signature, Submission
from app.workflow import submission as wf
from app.workflow import guard
from app.workflow import verification
from app.workflow import cases
from app.record.data import canonical_json, content_hash, export_case, read_case
from app.models.case import STATUS_DRAFT, STATUS_FIRST
from tests.factories import build_case, form_payload, login, make_case, sign_all, submit_first

ROUNDS = 8


def module_version(case, key):
    from app.record.lock import module_version as version

    return version(case, key)


def _on_sqlite(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")


class _Client:
    """A test client whose every request runs in a thread of its own, so it gets its own app
    context, session and connection as on a server (the test's app context is not shared)."""

    def __init__(self, client):
        self.client = client
        # Headers every request sends (the CSRF token conftest.login sets) stay on the real client.
        self.environ_base = client.environ_base

    def __getattr__(self, name):
        method = getattr(self.client, name)

        def call(*args, **kwargs):
            out = []

            def run():
                resp = method(*args, **kwargs)
                resp.get_data()  # read inside the request's thread
                out.append(resp)

            t = threading.Thread(target=run)
            t.start()
            t.join(timeout=120)
            assert out, f"{name} {args} failed (see the thread's traceback)"
            return out[0]

        return call


def _client(app, user):
    return login(_Client(app.test_client()), getattr(user, "username", user))


def _run_together(*calls):
    """Start every call at the same moment (a barrier); return their results in order."""
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)
    errors = []

    def run(i, fn):
        try:
            barrier.wait(timeout=30)
            results[i] = fn()
        except Exception as exc:  # surfaced below, with the thread's traceback text
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    return results


def _answer(resp):
    return resp.status_code, resp.get_json(silent=True) or {}


# ---- (a) a save racing 初次提交 ---------------------------------------------------------------------

def _api_save(app, saver):
    def save(case_id, new_place):
        return _answer(saver.put(f"/api/v1/case/{case_id}/module/qualification", json={"native_place": new_place}))

    return save


def _orm_save(app, _saver):
    """A script changing the module row directly: the flush-time lock must hold the case too."""
    def save(case_id, new_place):
        with app.app_context():
            try:
                with acting_as("脚本", "cli"):
                    db.session.get(Case, case_id).module_row("qualification").native_place = new_place
                    db.session.commit()
                return 200, {}
            except guard.CaseLocked as exc:
                db.session.rollback()
                return 400, {"message": str(exc)}
            finally:
                db.session.remove()

    return save


@pytest.mark.parametrize("saving", [_api_save, _orm_save], ids=["rest", "orm"])
def test_a_save_racing_the_first_submission_never_breaks_the_evidence(app, team, saving):
    """Submit and, 0–50 ms later, save a content module: either the save is refused (the case is
    locked) or it happened entirely before — then the signatures no longer match and the
    submission is refused. Never both: the submitted snapshot is always the live content."""
    if _on_sqlite(app):
        pytest.skip("SQLite runs one writer at a time: the overlap needs PostgreSQL")
    prepared = []
    for _ in range(ROUNDS):
        case, values = build_case(team)
        sign_all(case, team)
        with acting_as(team.clerk, "cli"):
            wf.set_pledge(case, team.clerk, True)
        prepared.append((case.id, case.case_no, values["qualification"]["native_place"]))
    db.session.commit()
    submitter = _client(app, team.clerk)
    save_module = saving(app, _client(app, team.plain))
    outcomes = []
    for n, (case_id, case_no, place) in enumerate(prepared):
        delay = random.uniform(0, 0.05)
        new_place = f"湖北武汉{n}"

        def submit(case_id=case_id):
            return _answer(submitter.post(f"/api/v1/case/{case_id}/submit/1", json={}))

        def save(case_id=case_id, delay=delay, new_place=new_place):
            time.sleep(delay)
            return save_module(case_id, new_place)

        (sub_status, sub_body), (save_status, save_body) = _run_together(submit, save)
        db.session.rollback()
        db.session.expire_all()
        case = db.session.get(Case, case_id)
        where = f"round {n} (delay {delay * 1000:.0f} ms): submit {sub_status} {sub_body}, save {save_status} {save_body}"
        assert sorted([sub_status, save_status]) == [200, 400], where
        sigs = db.session.execute(select(Signature).where(Signature.case_id == case_id)).scalars().all()
        if sub_status == 200:
            outcomes.append("submit first")
            assert "已锁定" in save_body["message"], where
            sub = db.session.execute(select(Submission).where(Submission.case_id == case_id)).scalar_one()
            assert case.status == STATUS_FIRST
            assert read_case(case)["qualification"]["native_place"] == place, where
            assert canonical_json(export_case(case)) == sub.snapshot, where  # live data = the snapshot
            assert content_hash(case) == sub.content_sha256
            assert len(sigs) == 3 and all(s.voided_at is None and s.snapshot_sha256 == sub.content_sha256
                                          for s in sigs), where
        else:
            outcomes.append("save first")
            assert case.status == STATUS_DRAFT, where
            assert read_case(case)["qualification"]["native_place"] == new_place, where
            assert db.session.execute(select(Submission.id).where(Submission.case_id == case_id)).first() is None
            assert "签字后案例内容已变更" in sub_body["message"] or "缺少" in sub_body["message"], where
        assert verification.verify_all([case.root_id]) == [], where
        result = app.test_cli_runner().invoke(args=["jishi", "verify", "--case-no", case_no])
        assert result.exit_code == 0, (where, result.output)
    print("race outcomes:", outcomes)


# ---- (b) two clerks on one module form ------------------------------------------------------------

def _form_version(html: str) -> tuple[str, str]:
    import html as htmllib

    version = re.search(r'name="version" id="module-version" value="([^"]*)"', html).group(1)
    base = re.search(r'name="base" id="module-base" value="([^"]*)"', html).group(1)
    return version, htmllib.unescape(base)


def _two_clerks_on_one_case(app, team):
    """A case with its first module saved, committed; the clerks of its unit, each with a client."""
    case, values = build_case(team, complete=("qualification",))
    case_id = case.id
    db.session.commit()
    return case_id, values, _client(app, team.clerk), _client(app, team.plain)


def test_a_stale_module_form_is_refused_with_what_the_other_clerk_changed(app, team):
    case_id, values, first, second = _two_clerks_on_one_case(app, team)
    url = f"/cases/show/{case_id}/module/qualification"
    v1, base1 = _form_version(first.get(url).get_data(as_text=True))
    v2, base2 = _form_version(second.get(url).get_data(as_text=True))
    assert v1 == v2 and json.loads(base1)["values"]["native_place"] == values["qualification"]["native_place"]
    q = values["qualification"]
    resp = first.post(url, data=form_payload(q, "qualification", native_place="湖北襄阳", version=v1, base=base1))
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    # the second clerk changed another item on the form opened before that save
    resp = second.post(url, data=form_payload(q, "qualification", current_post="区财政局副局长", version=v2,
                                              base=base2))
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "已被他人修改" in html
    conflict = re.search(r'id="conflict".*?</table>', html, re.S).group(0)
    assert "籍贯" in conflict and "湖北襄阳" in conflict  # the other clerk's change, labelled
    assert q["native_place"] in conflict  # … and the value this clerk's form still held
    assert "现任职务" not in conflict  # this clerk's own change is not the other's
    db.session.expire_all()
    saved = read_case(db.session.get(Case, case_id))["qualification"]
    assert saved["native_place"] == "湖北襄阳" and saved["current_post"] == q["current_post"]  # nothing written
    # the re-rendered form stands on the current version: saving again is a deliberate choice
    v3, base3 = _form_version(html)
    assert v3 != v2 and v3 == module_version(db.session.get(Case, case_id), "qualification")
    resp = second.post(url, data=form_payload(q, "qualification", native_place="湖北襄阳",
                                              current_post="区财政局副局长", version=v3, base=base3))
    assert resp.status_code == 302
    db.session.expire_all()
    saved = read_case(db.session.get(Case, case_id))["qualification"]
    assert (saved["native_place"], saved["current_post"]) == ("湖北襄阳", "区财政局副局长")


def test_a_stale_api_save_gets_409_with_the_differences_and_writes_nothing(app, team):
    case_id, values, one, two = _two_clerks_on_one_case(app, team)
    url = f"/api/v1/case/{case_id}/module/qualification"
    got = one.get(url)
    assert got.status_code == 200
    body = got.get_json()
    version = body["version"]
    assert got.headers["ETag"] == f'"{version}"' and body["result"]["native_place"] == values["qualification"]["native_place"]
    assert body["state"] == "已完成" and body["handler"] == "经办人甲"
    resp = one.put(url, json={"native_place": "湖北宜昌"}, headers={"If-Match": f'"{version}"'})
    assert resp.status_code == 200, resp.get_json()
    new_version = resp.get_json()["version"]
    assert new_version != version and resp.headers["ETag"] == f'"{new_version}"'
    assert two.get(url).get_json()["version"] == new_version  # what a reader gets is what the writer was told
    # the second writer still holds the old version: refused, with their value and ours
    resp = two.put(url, json={"native_place": "湖北黄石", "version": version})
    assert resp.status_code == 409
    answer = resp.get_json()
    assert "已被他人修改" in answer["message"] and answer["version"] == new_version
    assert {"key": "native_place", "label": "籍贯", "theirs": "湖北宜昌", "yours": "湖北黄石"}.items() <= \
        answer["diff"][0].items()
    resp = two.put(url, json={"native_place": "湖北黄石"}, headers={"If-Match": version})
    assert resp.status_code == 409
    db.session.expire_all()
    assert read_case(db.session.get(Case, case_id))["qualification"]["native_place"] == "湖北宜昌"
    # with the current version the save goes through
    assert two.put(url, json={"native_place": "湖北黄石"}, headers={"If-Match": new_version}).status_code == 200
    # a save without any version is a blind write of the items it names (older scripts keep working)
    assert two.put(url, json={"ethnicity": "回族"}).status_code == 200
    db.session.expire_all()
    saved = read_case(db.session.get(Case, case_id))["qualification"]
    assert (saved["native_place"], saved["ethnicity"]) == ("湖北黄石", "回族")


def test_completing_a_module_is_a_change_of_its_version(app, team):
    case, values = build_case(team, complete=())
    with acting_as(team.clerk, "cli"):
        cases.save_module(case, "qualification", values["qualification"], handler="甲", leader="乙")
        before = module_version(case, "qualification")
        cases.complete_module(case, "qualification")
        assert module_version(case, "qualification") != before
        with pytest.raises(cases.CaseError) as exc:
            cases.save_module(case, "qualification", {"native_place": "湖北荆州"}, version=before)
    db.session.rollback()
    assert "已被他人修改" in str(exc.value) and [d["label"] for d in exc.value.diff] == ["籍贯"]
    assert db.session.get(Case, case.id).module_row("qualification").state == "已完成"


def test_the_module_read_is_scoped(app, world, team):
    case, _values = build_case(team, complete=())
    case_id = case.id
    db.session.commit()
    assert _client(app, world.users["clerk_b"]).get(f"/api/v1/case/{case_id}/module/qualification").status_code == 404
    clerk_a = _client(app, world.users["clerk_a"])
    assert clerk_a.get(f"/api/v1/case/{case_id}/module/nonsense").status_code == 404
    assert clerk_a.get(f"/api/v1/case/{case_id}/module/qualification").status_code == 200


# ---- (c) concurrent API saves of one module -----------------------------------------------------

def test_concurrent_versioned_saves_never_lose_a_write(app, team):
    """Each writer reads the module, adds one to an item and saves with the version it read,
    retrying on 409: every increment arrives (a blind last-writer-wins would lose some)."""
    case, values = build_case(team, complete=("qualification",))
    case_id = case.id
    start = values["qualification"]["grassroots_months"]
    db.session.commit()
    writers, per_writer = 3, 3
    clients = [_client(app, team.clerk if i % 2 else team.plain) for i in range(writers)]
    url = f"/api/v1/case/{case_id}/module/qualification"

    def increment(client):
        conflicts = 0
        for _ in range(per_writer):
            while True:
                got = client.get(url).get_json()
                resp = client.put(url, json={"grassroots_months": got["result"]["grassroots_months"] + 1},
                                  headers={"If-Match": got["version"]})
                if resp.status_code == 200:
                    break
                assert resp.status_code == 409, resp.get_json()
                conflicts += 1
                assert conflicts < 200
        return conflicts

    conflicts = _run_together(*[lambda c=c: increment(c) for c in clients])
    db.session.expire_all()
    final = read_case(db.session.get(Case, case_id))["qualification"]["grassroots_months"]
    assert final == start + writers * per_writer, conflicts


def test_two_writers_with_the_same_version_one_wins_one_is_told(app, team):
    if _on_sqlite(app):
        pytest.skip("SQLite runs one writer at a time: the overlap needs PostgreSQL")
    case_id, values, a, b = _two_clerks_on_one_case(app, team)
    url = f"/api/v1/case/{case_id}/module/qualification"
    for n in range(ROUNDS):
        version = a.get(url).get_json()["version"]
        results = _run_together(
            lambda: _answer(a.put(url, json={"native_place": f"甲{n}"}, headers={"If-Match": version})),
            lambda: _answer(b.put(url, json={"native_place": f"乙{n}"}, headers={"If-Match": version})))
        statuses = sorted(r[0] for r in results)
        assert statuses == [200, 409], results
        winner = "甲" if results[0][0] == 200 else "乙"
        db.session.expire_all()
        assert read_case(db.session.get(Case, case_id))["qualification"]["native_place"] == f"{winner}{n}"


# ---- a review racing 退回补正 ------------------------------------------------------------------------

def test_a_review_racing_a_return_for_correction_is_refused_on_the_superseded_version(app, office):
    """退回补正 and, 0–50 ms later, 通过 by another supervisor: 通过 lands before the return (and the
    return still goes through) or is refused — never written into the version already superseded."""
    if _on_sqlite(app):
        pytest.skip("SQLite runs one writer at a time: the overlap needs PostgreSQL")
    from app.models import AppUser
    from app.models.supervision import Review
    from app.supervision import patrol

    ids = []
    for _ in range(ROUNDS):
        case, _values = make_case(office, dt.date.today() - dt.timedelta(days=2))
        submit_first(office, case)
        ids.append(case.id)
    sup_id = office.sup.id
    db.session.commit()

    def review(case_id, result, delay):
        time.sleep(delay)
        with app.app_context():
            try:
                with acting_as("测试巡查", "cli"):
                    sup = db.session.get(AppUser, sup_id)
                    patrol.review(db.session.get(Case, case_id), sup, result, f"{result}：并发审核")
                return "ok"
            except (patrol.PatrolError, cases.CaseError) as exc:
                db.session.rollback()
                return str(exc)
            finally:
                db.session.remove()

    for n, case_id in enumerate(ids):
        delay = random.uniform(0, 0.05)
        back, passed = _run_together(lambda: review(case_id, "退回补正", 0), lambda: review(case_id, "通过", delay))
        where = f"round {n} (delay {delay * 1000:.0f} ms): 退回补正 {back}, 通过 {passed}"
        assert back == "ok", where
        db.session.rollback()
        db.session.expire_all()
        old = db.session.get(Case, case_id)
        assert not old.is_current, where
        assert old.module_row("submission").review_result == "退回补正", where
        results = db.session.execute(select(Review.result).where(Review.case_id == case_id)
                                     .order_by(Review.id)).scalars().all()
        assert results[-1] == "退回补正", where  # nothing reviewed after it on the old version
        if passed != "ok":
            assert "只有已提交的现行版本可以审核" in passed, where
