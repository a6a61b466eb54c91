"""The supervisor's workbench in a real browser (Debian's headless Chromium through Playwright) — issue 7's
done-when walked through the pages:

0. a supervising 组织部 (one 监督员) with two units under it (a 填报员 and three 签字领导 each). Their clerks
   record cases at their own desks (through the services): unit 1 a case decided three weeks ago and not
   reported yet (逾期: red) and a case reported in time; unit 2 a case whose decision is not entered yet;
1. the supervisor logs in through the login form and opens 实时监控 (/monitor/, refreshing every second
   for this test: JISHI_MONITOR_REFRESH_SECONDS). While the page stays open, unit 2's clerk enters the
   decision — 7 of 11 members present (P27) — and the case is signed and submitted: unit 2's row turns to
   one red without a reload; then unit 1 reports its late case: the submission tiles follow;
2. 抽查: /spotchecks/draw with a fixed seed, one case per unit → the page shows the seed and the cases;
   重新抽取验证 says 一致; a second draw with the same seed gives the same cases; a finding (P27, a
   description, a deadline) on unit 2's sampled case shows on the draw and in 问题整改 (/findings/);
3. 通报: /notices/add for this quarter (本季度) with a 文号 → the draft lists unit 1 under 迟报 and unit 2
   under 错报、漏报 (and composing it again gives the same content) → 印发 → 已印发;
4. 应报未报: /reconcile/ takes a csv whose rows include a person never reported → listed under 应报未报,
   with an 应报未报 alarm in 报警 (/alarms/).

Why this quarter and not the last one: a notice's 错报 list is the red alarms raised (and findings
recorded) in its period, and a submission raises its alarm the day it is made — today — so only a period
that contains today can name the unit whose submission broke the quorum.

Every request the browser makes must stay on 127.0.0.1. Skipped (with the reason printed) when Chromium or
Python Playwright is missing, like tests/web/test_browser.py (the fixtures are tests/web/conftest.py's).
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import time
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from app.dates import official_date
from tests.factories import (
    CONTENT, make_id, make_unit, make_user, record_case, submit_first, unique, values_decided_on,
    without_quorum,
)
from tests.web.support import CHROMIUM_ARGS, HOST, Walk

SCREENSHOT = "/tmp/jishi-workbench.png"
FAILURE_SCREENSHOT = "/tmp/jishi-workbench-failure.png"
TIMEOUT = 20_000      # ms, any page
LIVE_TIMEOUT = 10_000  # ms, the dashboard following a submission without a reload
SEED = "jishi-7-walk"
# People of their own (西城区 IDs): since issue 13 one ID number is one person across every case in the
# database, and the suite's other cases use 东城区 numbers under other names.
LATE_NAME, LATE_ID = "钱五岳", make_id("110102", "19800315", "113")
WRONG_NAME, WRONG_ID = "李四海", make_id("110102", "19800315", "135")
ON_TIME_NAME, ON_TIME_ID = "赵六一", make_id("110102", "19800315", "157")
UNREPORTED = "王五一"  # on the document list, never reported by anyone


# ---- the data: what the units' clerks do at their own desks ----------------------------------------------

def _period(today: dt.date) -> tuple[dt.date, dt.date, bool]:
    """(from, to, quarterly): this calendar quarter — unless it began less than 8 days ago, when there is no
    room in it for a report five days late; then the last quarter and this one together."""
    from app import dates

    start, end = dates.quarter_of(today)
    if (today - start).days >= 8:
        return start, end, True
    return dates.last_quarter(today)[0], end, False


def _office(sm, dept, key: str, name: str, tag: str):
    from app.extensions import db

    unit = make_unit(f"{tag}-{key.upper()}", f"{name}{tag}", dept)
    db.session.add(unit)
    db.session.flush()
    return SimpleNamespace(
        unit=unit, clerk=make_user(sm, f"c{key}_{tag}", ["填报员"], unit.id),
        **{f"s{i}": make_user(sm, f"s{i}{key}_{tag}", ["签字领导"], unit.id) for i in (1, 2, 3)})


def _record(office, decided: dt.date, keys=CONTENT, *, name=None, id_no=None, no_quorum=False):
    """The clerk creates a case decided on ``decided`` and completes ``keys``; returns (case, values)."""

    values = values_decided_on(office.unit, decided)
    if name:  # another person: the candidate, and the same person on the nominee list
        old_id = values["qualification"]["id_card_no"]
        values["qualification"].update(full_name=name, id_card_no=id_no)
        for person in values["nomination"]["nominee_list"]:
            if person.get("id_card_no") == old_id:
                person.update(name=name, id_card_no=id_no)
    if no_quorum:
        without_quorum(values)
    return record_case(office.unit, office.clerk, values, keys, leader="责任领导"), values


def build(app, world, today: dt.date) -> SimpleNamespace:
    """组织部 (sup) → 一局 (clerk, 3 signers): a case 逾期 and unreported, a case reported in time;
    → 二局 (clerk, 3 signers): a case whose decision is not entered yet."""
    from app.audit import acting_as
    from app.extensions import db
    from app.models import Unit

    f, t, quarterly = _period(today)
    late_on = max(f, today - dt.timedelta(days=20))  # due five days later: 逾期 now
    tag = unique("wb").lower()
    with app.app_context():
        sm = app.appbuilder.sm
        with acting_as("测试夹具", "cli"):
            root = db.session.get(Unit, world.units["root"])
            dept = make_unit(f"{tag}-ZZB", f"区委组织部{tag}", root, level="区县", unit_type="组织部")
            db.session.add(dept)
            db.session.flush()
            u1 = _office(sm, dept, "u1", "一局", tag)
            u2 = _office(sm, dept, "u2", "二局", tag)
            sup = make_user(sm, f"sup_{tag}", ["监督员"], dept.id)
            db.session.commit()
        late, _ = _record(u1, late_on, name=LATE_NAME, id_no=LATE_ID)
        on_time, _ = _record(u1, today - dt.timedelta(days=3), name=ON_TIME_NAME, id_no=ON_TIME_ID)
        submit_first(u1, on_time)
        wrong, wrong_values = _record(u2, today - dt.timedelta(days=2), CONTENT[:-1], name=WRONG_NAME,
                                      id_no=WRONG_ID, no_quorum=True)
        data = SimpleNamespace(
            tag=tag, period=(f, t), quarterly=quarterly, late_on=late_on, sup=sup.username,
            dept=dept.id, dept_code=dept.code, dept_name=dept.name,
            u1=u1.unit.id, u1_code=u1.unit.code, u1_name=u1.unit.name, clerk1=u1.clerk.username,
            u2=u2.unit.id, u2_code=u2.unit.code, u2_name=u2.unit.name, clerk2=u2.clerk.username,
            late=late.id, late_no=late.case_no, late_name=late.full_name,
            on_time=on_time.id, on_time_no=on_time.case_no,
            wrong=wrong.id, wrong_no=wrong.case_no, wrong_decision=wrong_values["decision"])
        db.session.remove()
    return data


def _load_office(unit_id: int):
    from app.extensions import db
    from app.models import AppUser, Unit

    users = db.session.execute(select(AppUser).where(AppUser.unit_id == unit_id)).scalars().all()
    by_role = {}
    for u in users:
        role = u.roles[0].name
        by_role.setdefault(role, []).append(u)
    signers = sorted(by_role["签字领导"], key=lambda u: u.username)  # s1…, s2…, s3…
    return SimpleNamespace(unit=db.session.get(Unit, unit_id), clerk=by_role["填报员"][0],
                           s1=signers[0], s2=signers[1], s3=signers[2])


def unit2_decides_and_submits(app, data) -> None:
    """二局's clerk enters the decision (7 of 11 present), the leaders sign, the clerk submits."""
    from app.audit import acting_as
    from app.extensions import db
    from app.models import Case
    from app.workflow import cases

    with app.app_context():
        office = _load_office(data.u2)
        case = db.session.get(Case, data.wrong)
        with acting_as(office.clerk, "cli"):
            cases.save_module(case, "decision", data.wrong_decision, handler="经办人", leader="责任领导")
            cases.complete_module(case, "decision")
        submit_first(office, case)
        db.session.remove()


def unit1_reports_late(app, data) -> dt.date:
    """一局's leaders sign its late case and the clerk reports it; returns the day the report counts for."""
    from app.extensions import db
    from app.models import Case, CaseDeadline

    with app.app_context():
        case = db.session.get(Case, data.late)
        submit_first(_load_office(data.u1), case)
        submitted_on = db.session.execute(select(CaseDeadline.submitted_on).where(
            CaseDeadline.root_id == (case.root_id or case.id), CaseDeadline.node == 1)).scalar_one()
        db.session.remove()
    return submitted_on


# ---- the browser ----------------------------------------------------------------------------------------

class WorkbenchWalk(Walk):
    label = "browser-workbench"

    def _failed(self, req) -> None:
        # Leaving the dashboard aborts the refresh it may have in flight: that is not a failure.
        if urlsplit(req.url).path == "/monitor/data" and "ERR_ABORTED" in (req.failure or ""):
            return
        super()._failed(req)


def _cell(page, unit_id: int, col: str):
    return page.locator(f"#monitor-units-body tr[data-unit='{unit_id}'] td[data-col='{col}']")


def _csv(path, rows) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(["文号", "日期", "单位", "姓名", "身份证号", "职务"])
    writer.writerows(rows)
    path.write_bytes(buf.getvalue().encode("utf-8-sig"))
    return str(path)


@pytest.fixture()
def fast_monitor(app):
    """The dashboard refreshes every second for this test; the session app gets its setting back after."""
    key = "JISHI_MONITOR_REFRESH_SECONDS"
    had, old = key in app.config, app.config.get(key)
    app.config[key] = 1
    try:
        yield
    finally:
        if had:
            app.config[key] = old
        else:
            app.config.pop(key, None)


def test_supervisor_workbench_walk(chromium, app, world, live_server, fast_monitor, tmp_path):
    from app.extensions import db
    from app.models import Alarm, AppointmentDocument, Case, Finding, Notice, SpotCheck, Unit
    from app.supervision.notices import commands as notice_svc
    from app.supervision.notices.content import compose
    from app.supervision import patrol as patrol_svc

    executable, sync_playwright, expect = chromium
    base = live_server
    started = time.monotonic()
    today = dt.date.today()
    data = build(app, world, today)
    print(f"[browser-workbench] data built in {time.monotonic() - started:.1f}s; period {data.period}", flush=True)
    f, t = data.period
    number = f"{data.tag.upper()}组通〔{today.year}〕7号"

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        walk = WorkbenchWalk(browser, base, TIMEOUT)
        with walk.failing(FAILURE_SCREENSHOT):
            # ---- 1. 实时监控 follows the units' submissions -----------------------------------------
            walk.step("1 the supervisor logs in and opens 实时监控")
            page = walk.login(data.sup)
            walk.goto("/monitor/")
            monitor = page.locator("#monitor-page")
            expect(monitor).to_be_visible()
            assert monitor.get_attribute("data-refresh") == "1", monitor.get_attribute("data-refresh")
            rows = page.locator("#monitor-units-body tr")
            expect(rows).to_have_count(3)  # 本级 and the two units
            expect(rows.nth(0).locator("th")).to_have_text(f"{data.dept_name}（本级）")
            expect(page.locator(f"#monitor-units-body tr[data-unit='{data.u1}'] th")).to_have_text(data.u1_name)
            expect(page.locator(f"#monitor-units-body tr[data-unit='{data.u2}'] th")).to_have_text(data.u2_name)
            expect(_cell(page, data.u1, "total")).to_have_text("2")
            expect(_cell(page, data.u1, "red")).to_have_text("1")  # the case not reported in time
            expect(_cell(page, data.u2, "total")).to_have_text("1")
            expect(_cell(page, data.u2, "red")).to_have_text("0")  # its decision is not entered yet
            expect(page.locator("[data-k='lights.red']")).to_have_text("1")
            expect(page.locator("[data-k='statuses.first']")).to_have_text("1")
            expect(page.locator("[data-k='overdue.late']")).to_have_text("1")
            as_of = page.locator("#monitor-updated").inner_text()

            walk.step("1 unit 2 enters a decision without quorum and submits; the page follows without a reload")
            url_before = page.url
            unit2_decides_and_submits(app, data)
            expect(_cell(page, data.u2, "red")).to_have_text("1", timeout=LIVE_TIMEOUT)
            expect(_cell(page, data.u2, "total")).to_have_text("1")
            expect(page.locator("#monitor-units-total [data-k='units_total.red']")).to_have_text(
                "2", timeout=LIVE_TIMEOUT)
            expect(page.locator("[data-k='lights.red']")).to_have_text("2", timeout=LIVE_TIMEOUT)
            expect(page.locator("[data-k='statuses.first']")).to_have_text("2", timeout=LIVE_TIMEOUT)
            expect(page.locator("[data-k='alarms_raised']")).not_to_have_text("0", timeout=LIVE_TIMEOUT)

            walk.step("1 unit 1 reports its late case; the page follows")
            reported_on = unit1_reports_late(app, data)
            expect(page.locator("[data-k='statuses.first']")).to_have_text("3", timeout=LIVE_TIMEOUT)
            expect(page.locator("[data-k='overdue.late']")).to_have_text("0", timeout=LIVE_TIMEOUT)
            expect(_cell(page, data.u1, "red")).to_have_text("1")  # reported, but late: still red
            expect(page.locator("[data-k='worklist']")).to_have_text("3", timeout=LIVE_TIMEOUT)
            assert page.url == url_before, "the dashboard was reloaded"
            assert page.locator("#monitor-updated").inner_text() != as_of, "the time shown did not move"
            expect(page.locator("#monitor-state")).to_have_text("")  # no 刷新失败
            page.screenshot(path=str(tmp_path / "1-monitor.png"), full_page=True)

            # ---- 2. 抽查 and a finding -------------------------------------------------------------
            walk.step("2 a spot check with a fixed seed, one case per unit")
            walk.goto("/spotchecks/draw")
            form = page.locator("#draw-form")
            expect(form).to_be_visible()
            assert form.locator("[name=unit]").input_value() == data.dept_code  # the supervisor's own unit
            form.locator("input[name=method][value=count]").check()
            form.locator("[name=count]").fill("1")
            form.locator("[name=seed]").fill(SEED)
            walk.click_and_wait("#draw-btn")
            m = re.fullmatch(r"/spotchecks/show/(\d+)", urlsplit(page.url).path)
            assert m, f"抽取并保存 did not open the draw: {page.url} {walk.flashes()}"
            check_id = int(m.group(1))
            assert "已抽取并保存" in walk.flashes() and SEED in walk.flashes(), walk.flashes()
            expect(page.locator("#spotcheck-seed")).to_have_text(SEED)
            expect(page.locator("#spotcheck-method")).to_contain_text("每单位 1 件")
            expect(page.locator("#spotcheck-population")).to_have_text("3")
            expect(page.locator("#spotcheck-size")).to_have_text("2")
            items = page.locator("#spotcheck-items tbody tr")
            expect(items).to_have_count(2)
            sampled = [int(items.nth(i).get_attribute("data-case")) for i in range(2)]
            sampled_text = " ".join(items.nth(i).inner_text() for i in range(2))
            assert data.u1_name in sampled_text and data.u2_name in sampled_text, sampled_text
            assert data.wrong in sampled, (sampled, data.wrong)  # 二局 has one case: it is always drawn
            assert data.wrong_no in sampled_text and WRONG_NAME in sampled_text

            walk.step("2 重新抽取验证")
            walk.click_and_wait("#verify-btn")
            result = page.locator("#verify-result")
            expect(result).to_be_visible()
            assert result.get_attribute("data-same") == "1", result.inner_text()
            expect(result).to_contain_text("一致")
            assert sorted(map(int, page.locator("#verify-again").get_attribute("data-ids").split(","))) \
                == sorted(sampled)

            walk.step("2 the same seed drawn again gives the same cases")
            walk.goto("/spotchecks/draw")
            page.locator("#draw-form input[name=method][value=count]").check()
            page.fill("#draw-form [name=count]", "1")
            page.fill("#draw-form [name=seed]", SEED)
            page.fill("#draw-form [name=title]", "复核抽查")
            walk.click_and_wait("#draw-btn")
            m2 = re.fullmatch(r"/spotchecks/show/(\d+)", urlsplit(page.url).path)
            assert m2 and int(m2.group(1)) != check_id, page.url
            again = page.locator("#spotcheck-items tbody tr")
            expect(again).to_have_count(2)
            assert [int(again.nth(i).get_attribute("data-case")) for i in range(2)] == sampled

            walk.step("2 a finding on 二局's sampled case")
            walk.goto(f"/spotchecks/show/{check_id}")
            expect(page.locator("#spotcheck-findings tbody")).to_contain_text("尚未记录问题")
            deadline = today + dt.timedelta(days=20)
            description = "讨论决定会议到会 7 人，应到 11 人，不足三分之二，须重新履行讨论决定程序"
            finding_form = page.locator("#finding-form")
            finding_form.locator("#case_id").select_option(str(data.wrong))
            finding_form.locator("#rule_codes").fill("P27")
            finding_form.locator("#description").fill(description)
            finding_form.locator("#deadline").fill(deadline.isoformat())
            walk.click_and_wait("#finding-btn")
            assert urlsplit(page.url).path == f"/spotchecks/show/{check_id}", page.url
            assert "已记录问题" in walk.flashes() and deadline.isoformat() in walk.flashes(), walk.flashes()
            finding_rows = page.locator("#spotcheck-findings tbody tr[data-finding]")
            expect(finding_rows).to_have_count(1)
            expect(finding_rows).to_contain_text("P27")
            expect(finding_rows).to_contain_text(data.wrong_no)
            expect(finding_rows).to_contain_text("整改中")
            finding_id = int(finding_rows.get_attribute("data-finding"))
            page.screenshot(path=str(tmp_path / "2-spotcheck.png"), full_page=True)

            walk.step("2 the finding is listed in 问题整改")
            walk.goto("/findings/list/")
            row = page.locator("table tr").filter(has_text=description)
            expect(row).to_have_count(1)
            for text in ("P27", data.u2_name, deadline.isoformat(), "整改中"):
                expect(row).to_contain_text(text)
            walk.goto(f"/findings/show/{finding_id}")
            assert description in walk.body() and "P27" in walk.body()

            # ---- 3. the quarterly notice ------------------------------------------------------------
            walk.step("3 起草通报 for the quarter")
            walk.goto("/notices/add")
            expect(page.locator("#issuer")).to_have_text(data.dept_name)
            if data.quarterly:
                walk.click_and_wait(page.locator("#quick-periods a").filter(has_text="本季度"))
            else:  # the quarter began less than 8 days ago: the last quarter and this one
                page.fill("#n-from", f.isoformat())
                page.fill("#n-to", t.isoformat())
            assert page.input_value("#n-from") == f.isoformat() and page.input_value("#n-to") == t.isoformat()
            page.fill("#n-number", number)
            walk.click_and_wait("#create-btn")
            m = re.fullmatch(r"/notices/show/(\d+)", urlsplit(page.url).path)
            assert m, f"生成通报草稿 did not open the draft: {page.url} {walk.flashes()}"
            notice_id = int(m.group(1))
            assert "已起草通报草稿" in walk.flashes(), walk.flashes()
            expect(page.locator("#notice-status")).to_have_text("草稿")
            expect(page.locator("#doc-number")).to_have_text(number)
            if data.quarterly:
                quarter = "一二三四"[(f.month - 1) // 3]
                expect(page.locator("#doc-title")).to_have_text(
                    f"关于{f.year}年第{quarter}季度干部选拔任用工作记实报送情况的通报")

            walk.step("3 the draft names 一局 as late and 二局 as wrong")
            late_rows = page.locator("#late-table tbody tr")
            expect(late_rows).to_have_count(1)
            assert late_rows.get_attribute("data-unit") == data.u1_code
            late_text = late_rows.inner_text()
            due = data.late_on + dt.timedelta(days=5)
            for text in (data.u1_name, data.late_no, data.late_name, "初次提交", official_date(due),
                         official_date(reported_on), str((reported_on - due).days)):  # 公文: 2026年1月1日
                assert text in late_text, (text, late_text)
            wrong_rows = page.locator(".wrong-table tbody tr")
            assert wrong_rows.count() >= 2, page.locator("#sec-wrong").inner_text()  # the P27 alarm, the finding
            wrong_units = {wrong_rows.nth(i).get_attribute("data-unit") for i in range(wrong_rows.count())}
            assert wrong_units == {data.u2_code}, wrong_units
            wrong_text = page.locator("#notice-doc").inner_text()
            section = wrong_text[wrong_text.index("三、错报、漏报情况"):wrong_text.index("四、上期通报问题整改情况")]
            for text in (data.u2_name, data.wrong_no, WRONG_NAME, "P27", "到会成员不足三分之二", "程序不到位",
                         description):
                assert text in section, (text, section)
            assert data.u1_name not in section, section
            late_section = wrong_text[wrong_text.index("二、迟报情况"):wrong_text.index("三、错报、漏报情况")]
            assert data.u2_name not in late_section, late_section
            requirements = page.locator("#correction-deadline").inner_text()
            assert data.u1_name in requirements and data.u2_name in requirements, requirements
            ranking = page.locator("#ranking-table tbody tr")
            assert ranking.first.get_attribute("data-unit") != data.u2_code  # wrong costs more than late
            page.screenshot(path=str(tmp_path / "3-notice-draft.png"), full_page=True)

            walk.step("3 composing the same period again gives the same draft")
            with app.app_context():
                stored = db.session.get(Notice, notice_id)
                assert (stored.status, stored.period_from, stored.period_to, stored.number) == ("草稿", f, t, number)
                again_content = compose(db.session.get(Unit, data.dept), f, t, number=number)
                assert json.loads(json.dumps(again_content)) == stored.content
                db.session.remove()

            walk.step("3 印发: says what will happen, asks for the confirmation first")
            expect(page.locator("#issue-effects")).to_contain_text("不能再修改")
            page.check("#issue-confirm")
            walk.click_and_wait("#issue-btn")
            assert "已印发" in walk.flashes(), walk.flashes()
            expect(page.locator("#notice-status")).to_have_text("已印发")
            expect(page.locator("#issue-btn")).to_have_count(0)
            expect(page.locator("#edit-link")).to_have_count(0)
            expect(page.locator("#notice-meta")).to_contain_text("印发时间")
            walk.goto("/notices/list/")
            listed = page.locator("table tr").filter(has_text=number)
            expect(listed).to_have_count(1)
            expect(listed).to_contain_text("已印发")

            # ---- 4. 应报未报 ------------------------------------------------------------------------
            walk.step("4 the document list exposes an appointment never reported")
            doc_day = today - dt.timedelta(days=1)
            csv_path = _csv(tmp_path / "任免文件清单.csv", [
                [f"{data.tag}任〔{today.year}〕11号", doc_day.isoformat(), data.u1_code, data.late_name,
                 LATE_ID, "副局长"],  # the late case's person: reported
                [f"{data.tag}任〔{today.year}〕12号", doc_day.isoformat(), data.u2_code, UNREPORTED, "", "副局长"],
            ])
            walk.goto("/reconcile/")
            page.set_input_files("#reconcile-form input[name=file]", csv_path)
            walk.click_and_wait("#reconcile-form [type=submit]")
            assert "导入完成" in walk.flashes(), walk.flashes() + "\n" + walk.body()[:1500]
            assert "应报未报 1 份" in walk.flashes(), walk.flashes()
            unmatched = page.locator("#unmatched tbody tr[data-document]")
            expect(unmatched).to_have_count(1)
            expect(page.locator("#unmatched .panel-heading")).to_contain_text("应报未报（1 份）")
            for text in (UNREPORTED, data.u2_name, "副局长"):
                expect(unmatched).to_contain_text(text)
            matched = page.locator("#matched tbody tr[data-document]")
            expect(matched).to_have_count(1)
            expect(matched).to_contain_text(data.late_no)
            expect(page.locator("#matched")).not_to_contain_text(UNREPORTED)
            alarm_link = unmatched.locator("a[href^='/alarms/show/']")
            expect(alarm_link).to_have_count(1)
            alarm_id = int(alarm_link.inner_text().strip().lstrip("#"))
            page.screenshot(path=str(tmp_path / "4-reconcile.png"), full_page=True)

            walk.step("4 the 应报未报 alarm, from the result and in the alarm list")
            walk.click_and_wait(alarm_link)
            assert urlsplit(page.url).path == f"/alarms/show/{alarm_id}", page.url
            body = walk.body()
            assert "应报未报" in body and UNREPORTED in body, body[:1500]
            walk.goto("/alarms/list/")
            alarm_row = page.locator("table tr").filter(has_text="应报未报").filter(has_text=data.u2_name)
            expect(alarm_row).to_have_count(1)
            expect(alarm_row).to_contain_text("已报警")
            expect(alarm_row).to_contain_text("无案例")

            walk.step("5 back on 实时监控: the finding and the alarms are counted")
            walk.goto("/monitor/")
            expect(page.locator("[data-k='findings.open']")).to_have_text("1")
            expect(_cell(page, data.u2, "red")).to_have_text("1")
            expect(_cell(page, data.u1, "red")).to_have_text("1")
            page.wait_for_timeout(1500)  # a refresh or two: the numbers stay
            expect(page.locator("#monitor-state")).to_have_text("")
            page.screenshot(path=SCREENSHOT, full_page=True)
            page.goto("about:blank")  # stop the refresh before the context goes
            page.context.close()
            walk.page = None

    print(f"[browser-workbench] walked in {time.monotonic() - started:.1f}s; step screenshots in {tmp_path}",
          flush=True)

    # ---- a few checks in the database ---------------------------------------------------------------
    with app.app_context():
        check = db.session.get(SpotCheck, check_id)
        assert check.seed == SEED and check.count == 1 and check.method == "count"
        assert sorted(item.case_id for item in check.items) == sorted(sampled)
        assert sorted(patrol_svc.redraw(check).case_ids) == sorted(sampled)  # reproducible from the record
        finding = db.session.get(Finding, finding_id)
        assert (finding.case_id, finding.unit_id, finding.rule_codes, finding.correction_deadline,
                finding.spot_check_id) == (data.wrong, data.u2, "P27", deadline, check_id)
        notice = db.session.get(Notice, notice_id)
        assert notice.status == "已印发" and notice.number == number and notice.correction_deadline > today
        assert notice_svc.named_unit_ids(notice) == {data.u1, data.u2}
        doc = db.session.execute(select(AppointmentDocument).where(
            AppointmentDocument.person_name == UNREPORTED, AppointmentDocument.unit_id == data.u2)).scalar_one()
        alarm = db.session.get(Alarm, alarm_id)
        assert (alarm.document_id, alarm.unit_id, alarm.codes, alarm.case_id) == (doc.id, data.u2, "应报未报", None)
        assert db.session.get(Case, data.wrong).light == "红"
        assert db.session.execute(select(func.count(AppointmentDocument.id)).where(
            AppointmentDocument.unit_id.in_((data.u1, data.u2)))).scalar() == 2
        db.session.remove()

    assert walk.requested, "the browser recorded no request at all"
    assert any(urlsplit(url).path == "/monitor/data" for url in walk.requested), "the dashboard never refreshed"
    foreign = [url for url in walk.requested
               if urlsplit(url).scheme not in ("data", "blob", "about") and urlsplit(url).hostname != HOST]
    assert not foreign, "requests that left 127.0.0.1:\n" + "\n".join(foreign)
    assert not walk.failed, "requests that failed:\n" + "\n".join(walk.failed)
    assert not walk.errors, "server errors:\n" + "\n".join(walk.errors)
    elapsed = time.monotonic() - started
    print(f"[browser-workbench] done in {elapsed:.1f}s", flush=True)
