"""The statistics fact table (app/models/facts.py, app/queries/facts.py): one row per current
case whose flags are the statistics columns' own conditions, replaced in the transaction that
changes the case — by the ORM hooks or, for the deadline scan, by the roots it returns."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update

from app.audit import acting_as
from app.extensions import db
from app.models import FACT_KEYS, Case, CaseDeadline, CaseFact
from app.queries.cases import CaseFilter, count
from app.queries.columns import COLUMNS, FACT_EXTRA
from app.queries.statistics import unit_table
from app.scoping import Scope
from app.queries import facts as case_facts
from app.workflow import cases
from app.workflow import submission as wf
from tests.factories import derived_on, make_case, planted, scan, submit_first

D = dt.date


def fact(case_id) -> CaseFact | None:
    db.session.expire_all()
    return db.session.get(CaseFact, case_id)


def test_the_stored_columns_are_the_statistics_columns_without_batches_and_alarms():
    expected = [c.key for c in COLUMNS if not c.distinct_batches and "alarms" not in c.needs]
    expected += [c.key for c in FACT_EXTRA]
    assert list(FACT_KEYS) == expected
    assert set(FACT_KEYS) <= {c.name for c in CaseFact.__table__.c}


def test_a_new_case_and_a_module_save_change_its_row_in_the_same_commit(office):
    case, values = make_case(office, D(2026, 2, 10))
    row = fact(case.id)
    assert row is not None and row.people and row.decision_date == D(2026, 2, 10)
    assert row.female is (values["qualification"]["sex"] == "女")
    assert row.batch_first  # the only case of its batch
    with acting_as(office.clerk, "cli"):
        cases.save_module(case, "motion", {**values["motion"], "selection_type": "平级交流/转任"},
                          handler="经办人", leader="领导")
    row = fact(case.id)
    assert row.type_2 and not row.type_0  # 平级交流/转任 is SELECTION_TYPES[2]
    assert case_facts.mismatches() == []


def test_a_rolled_back_change_leaves_the_row_as_it_was(office):
    case, values = make_case(office, D(2026, 2, 10))
    before = fact(case.id).type_0
    with acting_as(office.clerk, "cli"):
        case.module_row("motion").selection_type = "免职"
        db.session.flush()
        assert case_facts.PENDING_KEY in db.session.info  # marked, to be refreshed at the commit
        db.session.rollback()
    assert case_facts.PENDING_KEY not in db.session.info
    assert fact(case.id).type_0 == before
    assert case_facts.mismatches() == []


def test_a_new_version_replaces_the_row_and_the_batch_keeps_one_first(office):
    case, _ = make_case(office, D(2026, 2, 10))
    other, _ = make_case(office, D(2026, 2, 10))  # the same meeting: the same batch
    assert case.batch_id == other.batch_id
    firsts = db.session.execute(select(CaseFact.case_id).where(CaseFact.batch_id == case.batch_id,
                                                               CaseFact.batch_first.is_(True))).scalars().all()
    assert firsts == [min(case.id, other.id)]
    submit_first(office, case)
    with acting_as(office.sup, "cli"):
        new = wf.return_for_correction(case, office.sup, "请补充考察材料")
    assert fact(case.id) is None  # no longer current
    row = fact(new.id)
    assert row is not None and row.returned and row.root_id == case.root_id
    assert case_facts.mismatches() == []
    table = unit_table(CaseFilter(date_from=D(2026, 1, 1), date_to=D(2026, 3, 31)), Scope("all"), office.dept)
    assert table.total.values["batches"] == 1 and table.total.values["people"] == 2


def test_the_deadline_scan_changes_the_rows_of_the_nodes_it_flags(office):
    case, _ = make_case(office, dt.date.today() - dt.timedelta(days=7))
    derived_on(case, dt.date.today() - dt.timedelta(days=3))  # as it stood three days ago
    row = fact(case.id)
    assert row.due1 is False and not row.late1 and not row.red  # 未到期
    scan()  # the scan writes statuses and lights set-based
    row = fact(case.id)
    assert row.due1 and row.late1 and row.red
    assert case_facts.mismatches() == []
    scan(dt.date.today() - dt.timedelta(days=3))  # another day: only read
    assert fact(case.id).due1
    assert case_facts.mismatches() == []


def test_mismatches_find_a_tampered_row_and_rebuild_mends_it(office):
    case, _ = make_case(office, D(2026, 2, 10))
    db.session.execute(update(CaseFact).where(CaseFact.case_id == case.id).values(grade_5=True, female=True))
    db.session.execute(update(CaseFact).where(CaseFact.case_id == case.id).values(batch_first=False))
    assert case.id in case_facts.mismatches()
    written = case_facts.rebuild()
    assert written == db.session.execute(select(db.func.count()).select_from(Case)
                                         .where(Case.is_current.is_(True))).scalar()
    assert case_facts.mismatches() == []
    db.session.rollback()


def test_filtered_statistics_agree_with_the_case_lists(office):
    """A filter beyond unit and period reads the facts through the filter's own joins; every cell
    still equals the list behind it."""
    for decided in (D(2026, 2, 10), D(2026, 2, 11), D(2026, 3, 1)):
        make_case(office, decided)
    f = CaseFilter(date_from=D(2026, 1, 1), date_to=D(2026, 3, 31), selection_type=["提拔"], name="")
    scope = Scope("all")
    table = unit_table(f, scope, office.dept)
    assert table.total.values["people"] == 3
    for col in COLUMNS:
        if col.distinct_batches:
            continue
        g = CaseFilter.from_dict({**f.as_dict(), "unit_id": office.dept.id, "subtree": True})
        assert count(g, scope, extra_conditions=[col.sql()], extra_needs=col.needs) == table.total.values[col.key], col.key


def test_an_object_added_just_before_the_commit_counts(office):
    """The commit's own flush comes after its before_commit hook: an object added and committed
    without an explicit flush must still refresh its case's row."""
    case, _ = make_case(office, D(2026, 2, 10))
    planted(case.case_no)  # its deadline is set by hand below, not derived
    db.session.execute(CaseDeadline.__table__.delete().where(CaseDeadline.root_id == case.root_id))
    case_facts.refresh(root_ids=[case.root_id])
    db.session.commit()
    assert fact(case.id).due1 is False
    with acting_as("测试", "cli"):
        db.session.add(CaseDeadline(root_id=case.root_id, case_id=case.id, unit_id=case.unit_id, node=1,
                                    anchor_date=D(2026, 2, 10), days=5, day_type="calendar", due_date=D(2026, 2, 15),
                                    status="按时", submitted_on=D(2026, 2, 12), days_late=0))
        db.session.commit()
    row = fact(case.id)
    assert row.due1 and row.ontime1


def test_cli_verifies_and_rebuilds(app, office):
    case, _ = make_case(office, D(2026, 2, 10))
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["reports", "facts-verify"])
    assert ok.exit_code == 0 and "一致" in ok.output
    db.session.execute(update(CaseFact).where(CaseFact.case_id == case.id).values(grade_5=True))
    db.session.commit()
    bad = runner.invoke(args=["reports", "facts-verify"])
    assert bad.exit_code == 1 and f"#{case.id}" in bad.output and "grade_5" in bad.output
    mended = runner.invoke(args=["reports", "facts-rebuild"])
    assert mended.exit_code == 0 and "已重算" in mended.output, mended.output
    assert runner.invoke(args=["reports", "facts-verify"]).exit_code == 0


def test_the_nightly_check_repairs_and_records(app, office):
    from app.models import TaskRun
    from app.tasks.maintenance import run_facts_check

    import config

    assert config.Config.CELERY["beat_schedule"]["facts-check"]["task"] == "jishi.facts_check"
    case, _ = make_case(office, D(2026, 2, 10))
    db.session.execute(update(CaseFact).where(CaseFact.case_id == case.id).values(type_5=True))
    db.session.commit()
    with acting_as("测试", "cli"):  # as the Celery task base does
        result = run_facts_check(triggered_by="测试")
    assert result["repaired"] >= 1
    assert case_facts.mismatches() == []
    run = db.session.get(TaskRun, result["task_run"])
    assert run.status == "成功" and case.id in run.counts["case_ids"]
    with acting_as("测试", "cli"):
        assert run_facts_check(triggered_by="测试")["repaired"] == 0
