"""Issue 16's custom rules in a real browser (Debian's headless Chromium through Playwright):

0. a supervising 组织部 (one 监督员) over a unit whose clerk recorded a case (decided in March 2024, its
   个别谈话 with 30 people); two administrators;
1. the first administrator writes a rule for the department's subtree — first with a condition that
   compares a date with a number: refused, with the position, nothing saved — then 个别谈话不少于 40 人;
2. 试运行 over March 2024 in the department: 1 case would fire, and it is the clerk's;
3. the author is offered no approval; the second administrator approves: 已启用;
4. the supervisor opens the case: red, the rule's code, title and basis in its hits; 规则命中统计 counts it.

Items (issue 16 part 4) are the "items" helper's; this walk covers the rules. Skipped (with the reason
printed) when Chromium or Python Playwright is missing."""
from __future__ import annotations

import datetime as dt


from tests.factories import fresh_rule_code, make_case, office_rows, two_admins
from tests.web.support import CHROMIUM_ARGS, Walk

FAILURE_SCREENSHOT = "/tmp/shots/crules/custom-rules-failure.png"
TIMEOUT = 20_000


def build(app, world):
    with app.app_context():
        a1, a2 = (u.username for u in two_admins(app, "brc"))
        office = office_rows(app, world, "brc")
        case = make_case(office, dt.date(2024, 3, 20))[0]
        code = fresh_rule_code()
        return dict(a1=a1, a2=a2, sup=office.sup.username, dept=office.dept.code, case_id=case.id,
                    case_no=case.case_no, code=code)


def test_custom_rule_walk(chromium, app, world, live_server):
    import os

    os.makedirs(os.path.dirname(FAILURE_SCREENSHOT), exist_ok=True)
    executable, sync_playwright, expect = chromium
    d = build(app, world)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        walk = Walk(browser, live_server, TIMEOUT)
        walk.label = "browser-custom-rules"
        with walk.failing(FAILURE_SCREENSHOT):
            walk.step("1 the first administrator writes a rule; a date compared with a number is refused")
            page = walk.login(d["a1"])
            walk.goto("/custom-rules/")
            walk.click_and_wait("#new-rule")
            page.fill("#code", d["code"])
            page.fill("#title", "个别谈话不少于40人")
            page.select_option("#severity", "red")
            page.fill("#effective_from", "2020-01-01")
            page.fill("#unit", d["dept"])
            page.fill("#basis", "某省干部选拔任用工作实施细则第十八条")
            page.fill("#expression", "interview_count >= 40 && decision_date > 20240101")
            page.click("#save-rule")
            page.wait_for_load_state("load")
            expect(page.locator("#check-errors")).to_contain_text("第 1 行第 40 列：日期不能与数字比较")
            expect(page.locator("#expression")).to_have_value("interview_count >= 40 && decision_date > 20240101")
            expect(page.locator("#items")).to_contain_text("个别谈话人数")
            page.fill("#expression", "interview_count >= 40")
            walk.click_and_wait("#save-rule")
            assert walk.flashes().count("已保存自定义规则") == 1, walk.flashes()
            expect(page.locator("#rule-status")).to_have_text("草稿")

            walk.step("2 试运行 over March 2024 in the department")
            page.fill("#try-form input[name=from]", "2024-03-01")
            page.fill("#try-form input[name=to]", "2024-03-31")
            page.fill("#try-form input[name=unit]", d["dept"])
            walk.click_and_wait("#run-try")
            expect(page.locator("#would-fire")).to_have_text("1")
            expect(page.locator(f"#try-fired tr[data-case='{d['case_id']}']")).to_contain_text(d["case_no"])
            expect(page.locator("#approve-rule")).to_have_count(0)  # 四眼原则: not the author
            expect(page.locator("#rule-status")).to_have_text("草稿")  # trying wrote nothing

            walk.step("3 the second administrator approves")
            page.context.close()
            page = walk.login(d["a2"])
            walk.goto(f"/custom-rules/show/{d['code']}")
            walk.click_and_wait("#approve-rule")
            expect(page.locator("#rule-status")).to_have_text("已启用")
            assert "已审批启用第 1 版" in walk.flashes()

            walk.step("4 the supervisor sees the case red with the rule, and the statistics count it")
            page.context.close()
            page = walk.login(d["sup"])
            walk.goto(f"/cases/show/{d['case_id']}")
            hit = page.locator(f"#rule-hits tr[data-code='{d['code']}']")
            expect(hit).to_contain_text("个别谈话不少于40人")
            expect(hit).to_contain_text("某省干部选拔任用工作实施细则第十八条")
            expect(page.locator("#case-light")).to_contain_text("红")
            walk.goto(f"/statistics/rules?unit={d['dept']}&date_from=2024-01-01&date_to=2024-12-31")
            row = page.locator(f"#rules-table tr[data-code='{d['code']}']")
            expect(row).to_contain_text("个别谈话不少于40人")
            expect(row.locator("a.total")).to_have_attribute("data-n", "1")
            assert not walk.errors and not walk.failed, (walk.errors, walk.failed)
