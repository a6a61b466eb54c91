"""Issue 16's whole promise in a real browser (Debian's headless Chromium through Playwright): an item and a
rule a province adds without a release.

0. a supervising 组织部 (one 监督员) over a unit whose clerk recorded a case (decided in March 2024); two
   administrators;
1. the first administrator adds the item 是否经过任前廉政谈话 (是/否) to 考察 for the department's subtree;
2. the clerk sees it in the 考察 form (marked 自定义) and records 否;
3. the first administrator writes a rule over the item (任前须经廉政谈话) and runs 试运行 over March 2024:
   1 case would fire, the clerk's; the author is offered no approval;
4. the second administrator approves (四眼原则);
5. the supervisor sees the case red with the rule's title and basis, and 规则命中统计 counts it.

Skipped (with the reason printed) when Chromium or Python Playwright is missing."""
from __future__ import annotations

import datetime as dt
import os


from tests.factories import fresh_rule_code, make_case, office_rows, two_admins, unique
from tests.web.support import CHROMIUM_ARGS, Walk

SHOTS = "/tmp/shots/custom"
TIMEOUT = 20_000
BASIS = "某省干部选拔任用工作实施细则第二十条（任前廉政谈话）"


def build(app, world):
    with app.app_context():
        a1, a2 = (u.username for u in two_admins(app, "bri"))
        office = office_rows(app, world, "bri")
        case = make_case(office, dt.date(2024, 3, 20))[0]
        code = fresh_rule_code()
        return dict(a1=a1, a2=a2, sup=office.sup.username, clerk=office.clerk.username, dept=office.dept.code,
                    case_id=case.id, case_no=case.case_no, code=code, key=unique("lz").lower())


def test_an_item_and_a_rule_over_it_without_a_release(chromium, app, world, live_server):
    os.makedirs(SHOTS, exist_ok=True)
    executable, sync_playwright, expect = chromium
    d = build(app, world)
    # unique per run, in digits: the key's hex could spell a Latin word ("aaeb") on pages the home walk reads
    label = f"是否经过任前廉政谈话{int(d['key'][-4:], 16):05d}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        walk = Walk(browser, live_server, TIMEOUT)
        with walk.failing(f"{SHOTS}/failure.png"):
            walk.step("1 the first administrator adds the item to 考察 for the department's subtree")
            page = walk.login(d["a1"])
            walk.goto("/customitems/")
            page.select_option("#ci-module", "inspection")
            page.fill("#ci-key", d["key"])
            page.fill("#ci-label", label)
            page.select_option("#ci-type", "bool")
            page.fill("#ci-effective", "2020-01-01")
            page.fill("#ci-unit", d["dept"])
            page.fill("#ci-help", "以谈话记录为准")
            walk.click_and_wait("#ci-save")
            assert f"已添加自定义数据项“{label}”" in walk.flashes(), walk.flashes()
            page.context.close()

            walk.step("2 the clerk sees it in the 考察 form and records 否")
            page = walk.login(d["clerk"])
            walk.goto(f"/cases/show/{d['case_id']}/module/inspection")
            field = page.locator(f'[data-item="{d["key"]}"]')
            expect(field).to_contain_text(label)
            expect(field).to_contain_text("自定义")
            page.select_option(f"select[name={d['key']}]", "0")
            walk.click_and_wait("#save-btn")
            assert page.input_value(f"select[name={d['key']}]") == "0"
            page.screenshot(path=f"{SHOTS}/clerk-form.png", full_page=True)
            page.context.close()

            walk.step("3 the first administrator writes a rule over the item and runs 试运行")
            page = walk.login(d["a1"])
            walk.goto("/custom-rules/")
            walk.click_and_wait("#new-rule")
            expect(page.locator("#items")).to_contain_text(label)  # the checker knows the custom item
            page.fill("#code", d["code"])
            page.fill("#title", "任前须经廉政谈话")
            page.select_option("#severity", "red")
            page.fill("#effective_from", "2020-01-01")
            page.fill("#unit", d["dept"])
            page.fill("#basis", BASIS)
            page.fill("#expression", f"{d['key']} == true")
            walk.click_and_wait("#save-rule")
            assert walk.flashes().count("已保存自定义规则") == 1, walk.flashes()
            page.fill("#try-form input[name=from]", "2024-03-01")
            page.fill("#try-form input[name=to]", "2024-03-31")
            page.fill("#try-form input[name=unit]", d["dept"])
            walk.click_and_wait("#run-try")
            expect(page.locator("#would-fire")).to_have_text("1")
            expect(page.locator(f"#try-fired tr[data-case='{d['case_id']}']")).to_contain_text(d["case_no"])
            expect(page.locator("#approve-rule")).to_have_count(0)  # 四眼原则: not the author
            page.screenshot(path=f"{SHOTS}/try.png", full_page=True)
            page.context.close()

            walk.step("4 the second administrator approves")
            page = walk.login(d["a2"])
            walk.goto(f"/custom-rules/show/{d['code']}")
            walk.click_and_wait("#approve-rule")
            expect(page.locator("#rule-status")).to_have_text("已启用")
            page.context.close()

            walk.step("5 the supervisor sees the case red with the rule's title and basis; statistics count it")
            page = walk.login(d["sup"])
            walk.goto(f"/cases/show/{d['case_id']}")
            hit = page.locator(f"#rule-hits tr[data-code='{d['code']}']")
            expect(hit).to_contain_text("任前须经廉政谈话")
            expect(hit).to_contain_text(BASIS)
            expect(page.locator("#case-light")).to_contain_text("红")
            page.screenshot(path=f"{SHOTS}/supervisor-case.png", full_page=True)
            walk.goto(f"/statistics/rules?unit={d['dept']}&date_from=2024-01-01&date_to=2024-12-31")
            row = page.locator(f"#rules-table tr[data-code='{d['code']}']")
            expect(row).to_contain_text("任前须经廉政谈话")
            expect(row.locator("a.total")).to_have_attribute("data-n", "1")
        assert not walk.errors and not walk.failed, (walk.errors, walk.failed)
