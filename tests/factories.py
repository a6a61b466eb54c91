"""What the tests build: the organisation, its users, cases and their values, and the rule tables' base
case. Plain functions (the fixtures over them are in conftest.py); no test module imports another.

Sections: ids and names · units and users · logging in · case values · cases on the database ·
exchange, forms and files · rule tables.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import random
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace

import pytest
from flask import current_app
from sqlalchemy import select, text
from werkzeug.security import generate_password_hash

from app.alarms import derived
from app.alarms.derived import after_scan
from app.alarms.lights import latest_hits
from app.audit import acting_as
from app.deadlines import due as deadlines
from app.demo.cases import PERSONAL_DATES
from app.extensions import db
from app.models import Alarm, AppUser, Case, CaseDeadline, Unit
from app.record.data import to_exchange
from app.idnumber import id_check_char
from app.rules.context import Ctx, Related, UnitFacts
from app.rules.catalog import all_rules
from app.views.case_forms import editable_items, form_data_from_values
from app.workflow import cases
from app.workflow import submission as wf

D = dt.date
PASSWORD = "Test-Passw0rd!"


# ---- ids and names ---------------------------------------------------------------------------------------

def unique(prefix: str = "T") -> str:
    return f"{prefix}{uuid.uuid4().hex[:10].upper()}"


def make_id(region: str, birth: str, seq: str) -> str:
    """An 18-character ID with its GB 11643 check character (weights 2^(17−i) mod 11, computed here)."""
    body = region + birth + seq
    assert len(body) == 17 and body.isdigit()
    total = sum(int(d) * pow(2, 17 - i, 11) for i, d in enumerate(body))
    return body + "10X98765432"[total % 11]


CANDIDATE_ID = make_id("110101", "19800315", "123")  # 北京市东城区, born 1980-03-15, digit 17 = 3 (男)
# Odd sequence numbers (a man's), the candidate's own (123) left out.
_OTHER_MEN = itertools.cycle(f"{n:03d}" for n in range(1, 1000, 2) if n != 123)


def female_id(seq: int) -> str:
    body = f"11010119800315{(seq * 2) % 1000:03d}"  # born as valid_case says; even 17th digit: a woman
    return body + id_check_char(body)


# ---- units and users -------------------------------------------------------------------------------------

def make_unit(code, name, parent, level="委办局", unit_type="政府", authority="处级任免权"):
    return Unit(code=code, name=name, parent=parent, level=level, unit_type=unit_type,
                max_grade="县处级正职", authority=authority, region_code="420100")


def make_user(sm, username, role_names, unit_id):
    user = AppUser(username=username, first_name=username, last_name="", email=f"{username}@t.invalid",
                   active=True, unit_id=unit_id, roles=[sm.find_role(r) for r in role_names])
    user.password = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    db.session.add(user)
    return user


def make_department(parent, tag: str, name: str, children: dict) -> tuple[Unit, dict]:
    """A 组织部 ``{tag}-ZZB`` named ``{name}{tag}`` under ``parent`` and its units: ``children`` maps a key to
    (name, parent key or None for the department, make_unit keyword arguments); each unit's code is
    ``{tag}-{KEY}`` and its name ``{name}{tag}``. Added and flushed; returns (department, {key: unit})."""
    dept = make_unit(f"{tag}-ZZB", f"{name}{tag}", parent, level="区县", unit_type="组织部")
    units = {}
    for key, (unit_name, above, extra) in children.items():
        units[key] = make_unit(f"{tag}-{key.upper()}", f"{unit_name}{tag}", units[above] if above else dept, **extra)
    db.session.add_all([dept, *units.values()])
    db.session.flush()
    return dept, units


def two_units(world, tag: str, dept_name: str, name1: str, name2: str) -> tuple[Unit, tuple[Unit, Unit]]:
    """A 组织部 under the world's root with two units below it, ``{tag}-U1`` and ``{tag}-U2``."""
    dept, units = make_department(db.session.get(Unit, world.units["root"]), tag, dept_name,
                                  {"u1": (name1, None, {}), "u2": (name2, None, {})})
    return dept, (units["u1"], units["u2"])


def make_users(sm, tag: str, spec: dict) -> dict:
    """{key: (username prefix, roles, unit)} → {key: user}; each username is ``{prefix}_{tag}``."""
    return {key: make_user(sm, f"{prefix}_{tag}", roles, unit.id) for key, (prefix, roles, unit) in spec.items()}


def office_rows(app, world, prefix: str, *, query: bool = False) -> SimpleNamespace:
    """A fresh 组织部 (with a supervisor, and a 查询员 if ``query``) above a fresh unit (with a clerk and three
    signers), under the world's root; committed. Call inside an app context."""
    tag = unique(prefix).lower()
    with acting_as("测试夹具", "cli"):
        dept, units = make_department(db.session.get(Unit, world.units["root"]), tag, "组织部",
                                      {"u": ("单位", None, {})})
        unit = units["u"]
        spec = {"clerk": ("clerk", ["填报员"], unit), "sup": ("sup", ["监督员"], dept)}
        if query:
            spec["query"] = ("query", ["查询员"], dept)
        spec.update({f"s{i}": (f"s{i}", ["签字领导"], unit) for i in (1, 2, 3)})
        users = make_users(app.appbuilder.sm, tag, spec)
        db.session.commit()
    return SimpleNamespace(unit=unit, dept=dept, **users)


def office_ids(app, world, prefix: str, *, query: bool = False) -> SimpleNamespace:
    """office_rows built in its own app context, for page tests that hold none: ids, codes and usernames."""
    with app.app_context():
        o = office_rows(app, world, prefix, query=query)
        keys = ("clerk", "sup", "query", "s1", "s2", "s3") if query else ("clerk", "sup", "s1", "s2", "s3")
        return SimpleNamespace(unit_id=o.unit.id, code=o.unit.code, dept_id=o.dept.id, dept_code=o.dept.code,
                               **{k: getattr(o, k).username for k in keys})


def user_named(username: str) -> AppUser:
    return db.session.execute(select(AppUser).where(AppUser.username == username)).scalar_one()


def office_in(ids) -> SimpleNamespace:
    """The rows of an office_ids office in the current app context (for the services)."""
    return SimpleNamespace(unit=db.session.get(Unit, ids.unit_id), dept=db.session.get(Unit, ids.dept_id),
                           **{k: user_named(getattr(ids, k)) for k in ("clerk", "sup", "s1", "s2", "s3")})


def planted(*case_nos) -> None:
    """Statistics and report fixtures set lights and deadline statuses directly, to test their columns
    rather than the derivation: the end-of-run check leaves those cases out (and only those). Kept on
    the app. Call inside the app context."""
    current_app.extensions.setdefault("jishi_planted", set()).update(case_nos)


# ---- logging in ------------------------------------------------------------------------------------------

def login(client, username, password=PASSWORD):
    resp = client.post("/login/", data={"username": username, "password": password})
    assert resp.status_code == 302, resp.data[:500]
    assert "/login" not in resp.headers.get("Location", ""), "login failed"
    return with_csrf_header(client)


def with_csrf_header(client):
    """Every later request of this logged-in client sends the page's CSRF token in X-CSRFToken, as the
    app's own JavaScript does: the API refuses cookie-authenticated writes without it."""
    page = client.get("/").get_data(as_text=True)
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    assert match, "no CSRF token on the start page"
    client.environ_base["HTTP_X_CSRFTOKEN"] = match.group(1)
    return client


def csrf_login(client, username, password=PASSWORD):
    """Log in through the form with the token the login page gives, as a browser does."""
    page = client.get("/login/").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    resp = client.post("/login/", data={"username": username, "password": password, "csrf_token": token})
    assert resp.status_code == 302 and "/login" not in resp.headers["Location"]
    return client


# ---- case values -----------------------------------------------------------------------------------------

def another_person(values: dict) -> dict:
    """``values`` with the candidate under a new ID number (same birth date and sex, so every rule
    reads the same facts). Cases that the database tests build are different people, as in real
    use: one person with hundreds of cases would make every save re-derive all of them (a change to
    a case re-derives the same person's other cases, app.alarms.derived.neighbours)."""
    new = make_id("110101", "19800315", next(_OTHER_MEN))

    def swap(value):
        if value == CANDIDATE_ID:
            return new
        if isinstance(value, dict):
            return {k: swap(v) for k, v in value.items()}
        if isinstance(value, list):
            return [swap(v) for v in value]
        return value

    return swap(values)


def person(name, post=None, id_card_no=None):
    out = {"name": name}
    if post:
        out["post"] = post
    if id_card_no:
        out["id_card_no"] = id_card_no
    return out


def valid_case() -> dict:
    """A complete, valid case: validate_values → [] and missing_items → [] for every module."""
    return {
        "qualification": {
            "full_name": "张明华",
            "id_card_no": CANDIDATE_ID,
            "sex": "男",
            "birth_date": D(1980, 3, 15),
            "ethnicity": "汉族",
            "native_place": "河北保定",
            "growth_place": "110101",
            "political_status": "中共党员",
            "party_join_date": D(2003, 6, 1),
            "party_full_member_date": D(2004, 6, 1),
            "work_start_date": D(2002, 7, 1),
            "identity": "公务员",
            "full_time_education": "大学本科",
            "full_time_degree": "学士",
            "part_time_education": "研究生",
            "resume": "2002.07–2010.12 区发展改革委科员\n2011.01–2018.05 区发展改革委综合科科长\n"
                      "2018.06–2019.12 区发展改革委副主任（县处级副职）\n2019.12– 区发展改革委党组成员、副主任",
            "current_post": "区发展和改革委员会党组成员、副主任",
            "current_grade": "县处级副职",
            "current_post_date": D(2019, 12, 20),
            "current_grade_date": D(2018, 6, 1),
            "lower_level_posts_count": 2,
            "grassroots_months": 36,
            "training_status": "已达到规定要求",
            "health_ok": True,
            "appraisal_y1": "优秀",
            "appraisal_y2": "称职",
            "appraisal_y3": "称职",
            "sanction_type": "无",
            "sanction_date": None,
            "spouse_children_abroad": "无",
        },
        "motion": {
            "case_no": "SJ011-2026-0001",
            "reporting_unit": "SJ011",
            "selection_type": "提拔",
            "target_unit": "SJ011",
            "target_post": "区发展和改革委员会主任",
            "target_grade": "县处级正职",
            "target_post_kind": "政府工作部门领导成员",
            "is_principal": True,
            "approved_quota": 1,
            "current_incumbents": 0,
            "motion_reason": "原主任到龄退休，岗位空缺，经分析研判需从区直部门县处级副职中选配一名熟悉经济工作的同志",
            "motion_meeting_date": D(2026, 1, 10),
            "motion_meeting_minutes": "动议会议记录.pdf",
            "work_plan_file": "选拔任用工作方案.pdf",
            "selection_method": "组织选拔",
            "is_breaking_rule": False,
            "breaking_rule_reason": None,
            "is_skip_level": False,
            "main_leader_transfer_settled_date": None,
            "freeze_window_flag": False,
        },
        "nomination": {
            "nomination_subject": "党委(党组)",
            "nomination_scope": "区直部门县处级副职干部",
            "nominee_list": [person("张明华", "区发展改革委副主任", CANDIDATE_ID), person("李强", "区财政局副局长"),
                             person("王芳", "区商务局副局长")],
            "nominee_count": 3,
            "posts_count": 1,
            "is_differential": True,
            "recommender": None,
            "recommendation_letter": None,
            "nomination_date": D(2026, 1, 15),
            "upper_consult_date": D(2026, 1, 14),
        },
        "recommendation": {
            "recommendation_required": True,
            "talk_reco_date": D(2026, 1, 20),
            "talk_reco_expected": 45,
            "talk_reco_actual": 43,
            "talk_reco_votes": 35,
            "talk_reco_rank": 1,
            "meeting_reco_done": True,
            "meeting_reco_skip_reason": None,
            "meeting_reco_date": D(2026, 1, 22),
            "meeting_reco_expected": 60,
            "meeting_reco_actual": 57,
            "ballots_issued": 57,
            "ballots_returned": 57,
            "ballots_valid": 56,
            "meeting_reco_votes": 41,
            "meeting_reco_rank": 1,
            "reco_tally_file": "推荐计票汇总表.pdf",
            "reused_reco_date": None,
            "reused_reco_post": None,
        },
        "inspection": {
            "inspection_object_count": 2,
            "inspection_object_date": D(2026, 1, 26),
            "negative_list_result": ["无"],
            "inspection_team": [person("刘建国", "区委组织部干部科科长"), person("陈静", "区委组织部干部科副科长")],
            "inspection_team_leader": person("刘建国", "区委组织部干部科科长"),
            "inspection_notice_date": D(2026, 1, 27),
            "inspection_start": D(2026, 2, 2),
            "inspection_end": D(2026, 2, 6),
            "interview_count": 30,
            "eval_participants": 57,
            "eval_excellent": 40,
            "eval_competent": 14,
            "eval_basic": 2,
            "eval_incompetent": 0,
            "archive_review_date": D(2026, 2, 3),
            "sanling_result": "与填报一致",
            "personal_matters_check_date": D(2026, 2, 4),
            "personal_matters_result": "一致",
            "discipline_opinion_request_date": D(2026, 2, 2),
            "discipline_opinion_reply_date": D(2026, 2, 5),
            "discipline_opinion_result": "无影响使用的问题",
            "petition_received": False,
            "petition_check_result": None,
            "integrity_conclusion_file": "廉洁自律结论性意见.pdf",
            "economic_audit": "不需要",
            "kinship_avoidance": "无亲属关系",
            "inspection_report_file": "考察材料.pdf",
            "inspection_conclusion": "建议任用",
        },
        "consultation": {
            "consult_scope": "区委书记、区长、区委副书记、区委组织部部长",
            "consult_date": D(2026, 2, 10),
            "upper_supervisor_opinion": "同意",
            "united_front_opinion": "不适用",
            "co_manager_request_date": None,
            "co_manager_reply": "不适用",
            "prior_report_required": False,
            "prior_report_items": None,
            "prior_report_date": None,
            "prior_report_reply": None,
            "prior_report_reply_date": None,
        },
        "decision": {
            "decision_meeting_type": "党委常委会",
            "decision_date": D(2026, 2, 12),
            "members_total": 11,
            "members_present": 10,
            "absent_opinion_collected": True,
            "presenter": person("赵卫东", "区委常委、组织部部长"),
            "reasons_presented": True,
            "reported_items_explained": None,
            "vote_method": "举手表决",
            "votes_for": 10,
            "votes_against": 0,
            "votes_defer": 0,
            "main_leader_last": True,
            "decision_result": "通过",
            "decision_minutes_file": "常委会会议纪要.pdf",
            "is_reconsideration": False,
            "reconsideration_consent": None,
            # issue 13 items (ADDED_ITEMS)
            "intervention_received": False, "intervention_record": None, "intervention_reported_date": None,
            "conflicted_members": 0, "recused_members": 0,
        },
        "publicity": {
            "publicity_required": True,
            "publicity_exempt_reason": None,
            "publicity_start": D(2026, 2, 13),
            "publicity_end": D(2026, 2, 27),
            "publicity_scope": "区政府网站及区发展改革委公示栏",
            "publicity_content_complete": True,
            "complaints_count": 0,
            "complaints_verified": "无反映",
            "complaint_check_file": None,
            "publicity_result": "不影响任职",
        },
        "appointment": {
            "appointment_mode": "委任制",
            "approval_route": "报上级备案",
            "approval_submit_date": D(2026, 2, 28),
            "approval_reply_date": None,
            "appointment_doc_no": "津西组任〔2026〕12号",
            "appointment_doc_date": D(2026, 3, 2),
            "appointment_effective_date": D(2026, 2, 12),
            "probation_applicable": True,
            "probation_end": D(2027, 3, 2),
            "probation_review_result": "未到期",
            "formal_appointment_date": None,
            "appointment_talk_date": D(2026, 3, 3),
            "appointment_talk_by": person("赵卫东", "区委常委、组织部部长"),
        },
        "signature": {
            "sig1_signer": person("孙立新", "区委组织部副部长"),
            "sig1_post": "区委组织部副部长",
            "sig1_opinion": "情况属实同意报送",
            "sig1_signed_at": D(2026, 2, 13),
            "sig2_signer": person("赵卫东", "区委常委、组织部部长"),
            "sig2_post": "区委常委、组织部部长",
            "sig2_opinion": "情况属实同意报送",
            "sig2_signed_at": D(2026, 2, 14),
            "sig3_signer": person("周志刚", "区委书记"),
            "sig3_post": "区委书记",
            "sig3_opinion": "情况属实同意报送",
            "sig3_signed_at": D(2026, 2, 15),
            "authenticity_pledge": True,
        },
        "submission": {
            "first_submitted_at": D(2026, 2, 16),
            "first_submitter": person("吴敏", "区委组织部干部科科长"),
            "first_submit_status": "按时提交",
            "second_submitted_at": D(2026, 3, 5),
            "second_submitter": person("吴敏", "区委组织部干部科科长"),
            "second_submit_status": "按时提交",
            "review_result": "通过",
            "alarm_codes": None,
            "correction_deadline": None,
            "correction_done_at": None,
            "correction_note_file": None,
        },
    }



# ---- cases on the database -------------------------------------------------------------------------------

# The modules filled before signing, in step order.
CONTENT = ("qualification", "motion", "nomination", "recommendation", "inspection", "consultation", "decision")
POSTS = {1: "组织部副部长", 2: "组织部部长", 3: "党委书记"}
AGREE = "情况属实同意报送"
# Dates of the procedure (modules 2–9) move together; the candidate's own history does not.
_SHIFTED = ("motion", "nomination", "recommendation", "inspection", "consultation", "decision", "publicity",
            "appointment")
_OFFSETS = itertools.count(random.randrange(1, 120))


def values_decided_on(unit: Unit, decided: dt.date) -> dict:
    """A valid case whose procedure dates are moved so that the meeting decided on ``decided``."""
    values = valid_case()
    shift = decided - values["decision"]["decision_date"]
    for key, module in values.items():
        if key == "qualification":
            continue
        for item, value in module.items():
            if isinstance(value, dt.date) and item not in PERSONAL_DATES:
                module[item] = value + shift
    values["motion"]["reporting_unit"] = values["motion"]["target_unit"] = unit.code
    return values


def case_values(unit: Unit) -> dict:
    """Another person's valid case, its procedure a test-specific number of days earlier (no two cases
    share a meeting batch)."""
    values = another_person(valid_case())
    shift = dt.timedelta(days=next(_OFFSETS))
    for key in _SHIFTED:
        for item, value in values[key].items():
            if isinstance(value, dt.date):
                values[key][item] = value - shift
    values["motion"]["reporting_unit"] = unit.code
    values["motion"]["target_unit"] = unit.code
    return values


def record_case(unit, clerk, values: dict, keys=CONTENT, *, handler="经办人", leader="领导",
                complete: bool = True) -> Case:
    """``clerk`` creates a case of ``unit`` and saves (and completes) the modules ``keys`` of ``values``."""
    with acting_as(clerk, "cli"):
        case = cases.create_case(unit, clerk)
        values["motion"]["case_no"] = case.case_no
        for key in keys:
            cases.save_module(case, key, values[key], handler=handler, leader=leader)
            if complete:
                cases.complete_module(case, key)
    return case


def without_quorum(values: dict) -> dict:
    """7 of 11 present: below two thirds (P27), as app.demo.cases._violating does."""
    values["decision"].update(members_present=7, votes_for=7, votes_against=0, votes_defer=0)
    return values


def save_case(unit: Unit, clerk, decided: dt.date, *, woman: int | None = None, name: str | None = None,
              complete: bool = False) -> tuple[Case, dict]:
    """A valid case of ``unit`` whose meeting decided on ``decided``, saved module by module as
    ``clerk`` (and each module completed); ``woman``: a woman's, with ``female_id(woman)``."""
    values = another_person(values_decided_on(unit, decided))
    if name:
        values["qualification"]["full_name"] = name
    if woman is not None:
        values["qualification"].update(sex="女", id_card_no=female_id(woman))
    return record_case(unit, clerk, values, complete=complete), values


def make_case(office, decided: dt.date) -> tuple[Case, dict]:
    return save_case(office.unit, office.clerk, decided, complete=True)


def make_person_case(office, decided: dt.date, name: str | None = None, id_no: str | None = None,
                     doc_no: str | None = None) -> Case:
    """A case of ``name``/``id_no`` (default: the valid case's candidate), modules saved by one handler each."""
    values = values_decided_on(office.unit, decided)
    if name:
        values["qualification"]["full_name"] = name
    if id_no:
        values["qualification"]["id_card_no"] = id_no
    with acting_as(office.clerk, "cli"):
        case = cases.create_case(office.unit, office.clerk)
        values["motion"]["case_no"] = case.case_no
        for key in CONTENT:
            cases.save_module(case, key, values[key], handler=f"经办{key}", leader=f"领导{key}")
            cases.complete_module(case, key)
        if doc_no:
            cases.save_module(case, "appointment", {"appointment_doc_no": doc_no})
    return case


def build_case(team, complete=CONTENT):
    values = case_values(team.unit)
    return record_case(team.unit, team.clerk, values, complete, handler="经办人甲", leader="领导乙"), values


def sign_all(case, office, levels=(1, 2, 3)):
    for level in levels:
        signer = getattr(office, f"s{level}")
        with acting_as(signer, "cli"):
            wf.sign(case, signer, level, POSTS[level], AGREE)


def submit_first(office, case):
    sign_all(case, office)
    with acting_as(office.clerk, "cli"):
        wf.set_pledge(case, office.clerk, True)
        return wf.submit(case, office.clerk, 1)


def to_first_submission(team):
    case, values = build_case(team)
    return (case, values, submit_first(team, case))


def to_second_submission(team):
    case, values, first = to_first_submission(team)
    with acting_as(team.clerk, "cli"):
        for key in ("publicity", "appointment"):
            cases.save_module(case, key, values[key], handler="经办人甲", leader="领导乙")
            cases.complete_module(case, key)
        second = wf.submit(case, team.clerk, 2)
    return case, values, first, second


def latest_codes(case_id: int) -> set[str]:
    """The rule codes of a case's latest hits."""
    return {r.rule_code for r in latest_hits(db.session.get(Case, case_id))}


def node(case, n=1) -> CaseDeadline | None:
    db.session.expire_all()
    return db.session.execute(select(CaseDeadline).where(CaseDeadline.root_id == case.root_id,
                                                         CaseDeadline.node == n)).scalar_one_or_none()


def deadline_alarms(case) -> list[Alarm]:
    return db.session.execute(select(Alarm).where(Alarm.root_id == case.root_id,
                                                  Alarm.dedup_key.is_not(None))).scalars().all()


def scan(as_of=None):
    """The scan as the task runs it (today: written; another day: only read)."""
    with acting_as("测试", "task"):
        return deadlines.scan(as_of, after=after_scan)


def derived_on(case, day: dt.date) -> None:
    """Days pass in a test by going back: the case's derived state as it was derived on ``day``
    (the scan of today then moves it on, as the first scan after those days would)."""
    with acting_as("测试", "task"):
        derived.derive(db.session.get(Case, case.id), day)
        db.session.commit()


# ---- tampering below the application ---------------------------------------------------------------------

def is_pg() -> bool:
    return db.engine.dialect.name == "postgresql"


@contextmanager
def tampering(table: str):
    """A connection on which the table's evidence trigger is off (to tamper below the application);
    the trigger is back, exactly as the migration made it, when the block ends."""
    with db.engine.connect() as conn:
        if is_pg():
            name = {"submission_record": "submission_record_immutable",
                    "signature_record": "signature_record_sealed"}[table]
            conn.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {name}"))
            try:
                yield conn
            finally:
                conn.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {name}"))
                conn.commit()
        else:
            name = {"submission_record": "submission_record_no_update",
                    "signature_record": "signature_record_no_update"}[table]
            sql = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = :n"),
                               {"n": name}).scalar()
            assert sql, name
            conn.execute(text(f"DROP TRIGGER {name}"))
            try:
                yield conn
            finally:
                conn.execute(text(sql.replace("CREATE TRIGGER", "CREATE TRIGGER IF NOT EXISTS", 1)))
                conn.commit()
    db.session.expire_all()


def tamper(table: str, sql: str, **params):
    db.session.rollback()
    with tampering(table) as conn:
        conn.execute(text(sql), params)


# ---- exchange, forms and files ---------------------------------------------------------------------------

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
DOCUMENT_HEADER = ["文号", "日期", "单位", "姓名", "身份证号", "职务"]


def case_json(world, changes=None) -> dict:
    """A valid case of unit A as an exchange file (no case number, no signatures or submissions)."""
    values = valid_case()
    with db.session.no_autoflush:
        code_a = db.session.get(Unit, world.units["a"]).code
    values["motion"]["reporting_unit"] = code_a
    values["motion"]["target_unit"] = code_a
    values["motion"]["case_no"] = None
    for (mkey, key), value in (changes or {}).items():
        values[mkey][key] = value
    data = to_exchange(values)
    # Signatures, the pledge and submissions are made in the system, never imported
    # (tests/workflow/test_case_import_records.py): a file of a draft has empty blocks, as its export.
    data["signature"], data["submission"] = {}, {}
    return data


def form_payload(values: dict, key: str, **extra) -> dict:
    """What a browser posts for one module filled with ``values``."""
    data = {}
    for k, v in form_data_from_values(values, key).items():
        if v is None:
            continue
        if isinstance(v, dt.date):
            v = v.isoformat()
        data[k] = v if isinstance(v, list) else str(v)
    for item in editable_items(key):
        if item.kind == "file-ref" and values.get(item.key):
            data[item.key] = (io.BytesIO(PDF), values[item.key])
    data.update(handler="经办人甲", leader="责任领导乙")
    data.update(extra)
    return data


def days_ago(n: int) -> dt.date:
    return dt.date.today() - dt.timedelta(days=n)


def csv_file(path, rows, header=DOCUMENT_HEADER, encoding="utf-8-sig"):
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    for r in rows:
        writer.writerow([v.isoformat() if isinstance(v, dt.date) else v for v in r])
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


# ---- rule tables -----------------------------------------------------------------------------------------
# Each table is a list of ``RuleCase``: a rule code, the expected outcome, and what differs from the base
# case (``valid_case()`` flattened to item keys). tests/rules/test_rules_meta.py requires, for every
# registered rule, at least one "pass" and one "fail" row.

AS_OF = dt.date(2026, 6, 30)


# What the product's catalogue (app/spec) adds to the shared one (shared/spec), by issue 13: the tests
# that count rules and items expect the shared figures plus exactly these.
ADDED_RULES = ("X18", "X19", "D14", "D12", "C17", "D13")
ADDED_ITEMS = ("reused_reco_post", "intervention_received", "intervention_record", "intervention_reported_date",
               "conflicted_members", "recused_members")
NEW_RULES = len(ADDED_RULES)


def base_values() -> dict:
    flat = {}
    for module in valid_case().values():
        flat.update(module)
    return flat


def base_unit(**changes) -> UnitFacts:
    facts = dict(code="SJ011", level="委办局", unit_type="政府", max_grade="厅局级副职", region_code="110101",
                 dual_managed=False, quotas={"县处级正职": 1, "县处级副职": 3})
    facts.update(changes)
    return UnitFacts(**facts)


@dataclass
class RuleCase:
    code: str
    expect: str  # "pass" | "fail" | "na"
    changes: dict = field(default_factory=dict)  # item key → value (None clears it)
    params: dict = field(default_factory=dict)  # overrides of the rule's defaults
    as_of: dt.date = AS_OF
    unit: dict | None = None  # changes to base_unit() for the reporting unit
    target_unit: dict | None = None  # changes to base_unit() for the target unit
    related: dict | None = None  # fields of Related
    severity: str | None = None  # expected severity of a fail
    note: str = ""

    def id(self) -> str:
        return f"{self.code}-{self.expect}-{self.note or len(self.changes)}"


def make_ctx(rc: RuleCase) -> Ctx:
    rule = all_rules()[rc.code]
    values = base_values()
    values.update(rc.changes)
    return Ctx(values=values, params={**rule.params, **rc.params}, as_of=rc.as_of,
               unit=base_unit(**(rc.unit or {})), target_unit=base_unit(**(rc.target_unit or {})),
               related=Related(**(rc.related or {})))


def base_status(code: str) -> str:
    """The rule's outcome on the base case (a table's rules never fire on it)."""
    return all_rules()[code].run(make_ctx(RuleCase(code, "pass"))).status


def outcomes(table, code: str) -> set:
    """The outcomes a table's rows expect of one rule."""
    return {rc.expect for rc in table if rc.code == code}


def rule_tests(table, codes, base_hits=()):
    """The tests every rule table runs, for its module to name: each row; the base case against each of
    ``codes`` (it hits none but ``base_hits``); a passing and a failing row for each of ``codes``."""
    @pytest.mark.parametrize("rc", table, ids=lambda rc: rc.id())
    def rows(rc):
        check(rc)

    @pytest.mark.parametrize("code", codes)
    def base_case(code):
        assert base_status(code) in (("fail",) if code in base_hits else ("pass", "na"))

    @pytest.mark.parametrize("code", codes)
    def pass_and_fail(code):
        assert {"pass", "fail"} <= outcomes(table, code)

    return rows, base_case, pass_and_fail


def check(rc: RuleCase):
    out = all_rules()[rc.code].run(make_ctx(rc))
    assert out.status == rc.expect, f"{rc.code} {rc.note}: expected {rc.expect}, got {out}"
    if out.status == "fail":
        assert out.message and not out.message.isascii(), "a hit needs a Chinese message"
        assert out.severity in ("red", "yellow")
        if rc.severity:
            assert out.severity == rc.severity, out
    return out


# ---- custom items (自定义数据项) ---------------------------------------------------------------------------

def custom_item(admin, unit, **fields):
    """A custom item added by ``admin`` for ``unit``'s subtree (never for every unit: the suite shares one
    database), key made unique, effective long ago unless said. Returns its definition as a dict."""
    from app.workflow.custom_items import add_item

    data = {"module": "qualification", "key": unique("ci").lower(), "label": f"自定义{unique('L')}", "type": "text",
            "required": False, "effective_from": "2000-01-01", "unit": unit.code, **fields}
    data = {k: v for k, v in data.items() if v is not None}
    with acting_as(admin, "cli"):
        item = add_item(data, admin)
    return {**data, "id": item.id}


def fresh_rule_code() -> str:
    """A custom rule code (Z1000…Z9999) no custom rule of the shared test database holds yet (app context)."""
    from app.models import CustomRuleVersion

    while True:
        code = f"Z{random.randint(1000, 9999)}"
        if not db.session.execute(select(CustomRuleVersion.id).where(CustomRuleVersion.code == code)).first():
            return code


def two_admins(app, prefix: str) -> tuple:
    """Two 系统管理员 without a unit, committed: a custom rule's author and the second administrator who
    approves it (四眼原则). Needs an app context."""
    tag = unique(prefix).lower()
    with acting_as("测试夹具", "cli"):
        users = tuple(make_user(app.appbuilder.sm, f"{prefix}adm{i}_{tag}", ["系统管理员"], None) for i in (1, 2))
        db.session.commit()
    return users
