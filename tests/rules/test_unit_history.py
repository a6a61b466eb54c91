"""Issue 13, class 6: one unit across cases, in the database — D03 from a case in the system that moves the
unit's 主要领导 out, D14 against the unit's own history — re-derived when the other cases change."""
from __future__ import annotations

import datetime as dt

from app.audit import acting_as
from app.extensions import db
from app.workflow import cases
from tests.factories import latest_codes, save_case

TODAY = dt.date.today()


def _save(office, case, module, **values):
    with acting_as(office.clerk, "cli"):
        cases.save_module(case, module, values)
    db.session.commit()


def test_a_leader_moved_out_by_a_case_in_the_system_lights_d03(office):
    promotion, _ = save_case(office.unit, office.clerk, TODAY - dt.timedelta(days=30), complete=True)
    db.session.commit()
    assert "D03" not in latest_codes(promotion.id)
    leader, _ = save_case(office.unit, office.clerk, TODAY - dt.timedelta(days=10), complete=True)
    db.session.commit()
    _save(office, leader, "qualification", current_post=f"{office.unit.name}党组书记、主任", current_grade="县处级正职")
    _save(office, leader, "motion", selection_type="免职")
    _save(office, leader, "inspection", inspection_notice_date=TODAY - dt.timedelta(days=60))
    assert "D03" in latest_codes(promotion.id), "the unit declared nothing; the system knows its leader left"
    # the case is corrected: it removes a deputy, not the leader
    _save(office, leader, "qualification", current_post=f"{office.unit.name}党组成员、副主任", current_grade="县处级副职")
    assert "D03" not in latest_codes(promotion.id)


def test_a_batch_far_above_the_units_history_lights_d14(office):
    big = [save_case(office.unit, office.clerk, TODAY - dt.timedelta(days=5), complete=True)[0] for _ in range(6)]
    db.session.commit()
    assert "D14" not in latest_codes(big[0].id), "no history yet"
    for days in (100, 200, 300):  # the unit's earlier meetings: one person each
        save_case(office.unit, office.clerk, TODAY - dt.timedelta(days=days), complete=True)
        db.session.commit()
    assert all("D14" in latest_codes(c.id) for c in big), "earlier meetings entered later re-derive the batch"
