"""Issue 13, class 5: one person across cases, in the database — the registry keyed by 身份证号, X18/X19 at
save, recorded corrections (档案专审, corrected ID numbers), no silent merge, and the timeline."""
from __future__ import annotations

import datetime as dt

import pytest

from app.audit import acting_as
from app.extensions import db
from app.models import Case
from app.queries.people import linked_ids, timeline
from app.supervision.people import CorrectionRefused, record_correction
from app.workflow import cases
from tests.factories import latest_codes, save_case

TODAY = dt.date.today()


def _qualification(office, case, **changes):
    with acting_as(office.clerk, "cli"):
        cases.save_module(case, "qualification", changes)
    db.session.commit()


def _id(case) -> str:
    return case.module_row("qualification").id_card_no


@pytest.fixture()
def two_cases(office):
    """The same person in two cases of the unit: decided 400 days ago, then 10 days ago."""
    first, _ = save_case(office.unit, office.clerk, TODAY - dt.timedelta(days=400), complete=True)
    second, _ = save_case(office.unit, office.clerk, TODAY - dt.timedelta(days=10), complete=True)
    db.session.commit()
    _qualification(office, second, id_card_no=_id(first))
    return first, second


def _moved_work_start(office, case) -> tuple[str, str]:
    """The second 公示 moves the 参加工作时间 by two years (a birth year moved alone cannot be saved: the ID
    number says otherwise, X03). Returns (earlier value, new value)."""
    row = case.module_row("qualification")
    before = row.work_start_date
    _qualification(office, case, work_start_date=before.replace(year=before.year - 2))
    return before.isoformat(), before.replace(year=before.year - 2).isoformat()


def test_a_moved_work_start_lights_x18_on_the_later_case_only(office, two_cases):
    first, second = two_cases
    assert "X18" not in latest_codes(second.id)
    old, new = _moved_work_start(office, second)
    assert "X18" in latest_codes(second.id)
    assert "X18" not in latest_codes(first.id), "an earlier case is not blamed for a later one"
    from app.alarms.lights import latest_hits

    [hit] = [h for h in latest_hits(db.session.get(Case, second.id)) if h.rule_code == "X18"]
    assert first.case_no in hit.message and second.case_no in hit.message
    assert old in hit.message and new in hit.message


def test_a_recorded_correction_explains_the_difference_and_an_edit_of_the_earlier_case_re_derives(office, two_cases):
    first, second = two_cases
    old, new = _moved_work_start(office, second)
    assert "X18" in latest_codes(second.id)
    with acting_as("档案审核员", "cli"):
        record_correction(_id(second), "work_start_date", old, new, "干部档案专审认定（2026）3号", TODAY)
        db.session.commit()
    assert "X18" not in latest_codes(second.id)
    # the earlier case changes: the later one is judged again at once
    _qualification(office, first, party_join_date=first.module_row("qualification").party_join_date
                   - dt.timedelta(days=400))
    assert "X18" in latest_codes(second.id)


def test_x19_compares_the_current_post_date_with_the_earlier_appointment(office, two_cases):
    first, second = two_cases
    motion, appointment = first.module_row("motion"), first.module_row("appointment")
    day = appointment.appointment_effective_date if appointment is not None else None
    day = day or first.batch.decision_date
    _qualification(office, second, current_post=motion.target_post, current_post_date=day)
    assert "X19" not in latest_codes(second.id)
    _qualification(office, second, current_post_date=day - dt.timedelta(days=400))
    assert "X19" in latest_codes(second.id)


def test_a_corrected_id_links_only_through_a_recorded_correction(office, two_cases):
    first, second = two_cases
    other, _ = save_case(office.unit, office.clerk, TODAY - dt.timedelta(days=200), complete=True)
    db.session.commit()
    old_id = _id(other)
    assert linked_ids(_id(second)) == {_id(second)}, "same name and birth date: still another person"
    with acting_as("档案审核员", "cli"):
        record_correction(_id(second), "id_card_no", old_id, _id(second), "身份证号更正认定（2026）1号", TODAY)
        db.session.commit()
    assert linked_ids(_id(second)) == {_id(second), old_id} == linked_ids(old_id)
    _qualification(office, other, full_time_education="大学专科", full_time_degree="无")
    assert "X18" in latest_codes(second.id), "the linked case is compared now"


def test_two_different_people_are_never_merged(office, two_cases):
    first, second = two_cases
    stranger, _ = save_case(office.unit, office.clerk, TODAY - dt.timedelta(days=200), name="李四海", complete=True)
    db.session.commit()
    with acting_as("档案审核员", "cli"), pytest.raises(CorrectionRefused, match="姓名不同"):
        record_correction(_id(second), "id_card_no", _id(stranger), _id(second), "误认", TODAY)
    db.session.rollback()
    assert linked_ids(_id(second)) == {_id(second)}
    with acting_as("档案审核员", "cli"), pytest.raises(CorrectionRefused):
        record_correction(_id(second), "birth_date", "1980-03-15", "1980-03-15", "无", TODAY)
    db.session.rollback()


def test_the_timeline_lists_every_case_of_the_person(app, office, two_cases):
    first, second = two_cases
    data = timeline(_id(first))
    assert [e["case_no"] for e in data["events"]] == [first.case_no, second.case_no]
    result = app.test_cli_runner().invoke(args=["people", "timeline", _id(first)])
    assert result.exit_code == 0, result.output
    assert first.case_no in result.output and second.case_no in result.output
    refused = app.test_cli_runner().invoke(args=["people", "correct", _id(first), "birth_date", "x", "y",
                                                 "--basis", "b", "--date", "2026-01-01"])
    assert refused.exit_code != 0 and "日期格式" in refused.output


def test_supervisors_see_the_timeline_page_in_their_scope(app, world, office, two_cases):
    from flask import g

    from tests.conftest import login

    def forget_user():  # the fixture's app context outlives each request: its g keeps the last user
        g.pop("_jishi_scope", None)
        g.pop("_login_user", None)
        g.pop("user", None)

    first, second = two_cases
    sup = login(app.test_client(), office.sup.username)
    html = sup.get(f"/people/?id={_id(first)}").get_data(as_text=True)
    assert first.case_no in html and second.case_no in html
    forget_user()
    outsider = login(app.test_client(), world.users["sup_a"])  # a supervisor of another subtree
    other = outsider.get(f"/people/?id={_id(first)}").get_data(as_text=True)
    assert "person-timeline" in other and first.case_no not in other
    forget_user()
    clerk = login(app.test_client(), office.clerk.username)
    resp = clerk.get(f"/people/?id={_id(first)}")
    assert resp.status_code in (302, 403) and first.case_no not in resp.get_data(as_text=True)
