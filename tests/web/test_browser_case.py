"""One case from 动议 to 二次提交 in a real browser (Debian's headless Chromium through Playwright).

The people do what they would do at their desks, through the pages only:

1. the clerk of unit A opens 全程记实 → 案例, clicks 新建案例, confirms and lands on the case page (11 steps, all 未填);
2. fills and completes steps 1–7 one by one (every item of the valid case, attachments as small PDFs,
   经办人/责任领导) — after first making a mistake in the ID number, which is reported item by item
   while what was typed stays in the field;
3. three 签字领导 of unit A sign at levels 1, 2 and 3;
4. the clerk makes the authenticity pledge and submits (初次提交): steps 1–7 are locked; then fills
   公示 and 任职 and submits again (二次提交): two submissions, the second chained to the first;
5. the supervisor finds the case in the list and sees both submissions; the sibling unit's clerk
   gets 404.

Every request the browser makes must stay on 127.0.0.1. Skipped (with the reason printed) when
Chromium or Python Playwright is missing, like tests/web/test_browser.py (the fixtures are tests/web/conftest.py's).
"""
from __future__ import annotations

import datetime as dt
import random
import re
import time
from urllib.parse import urlsplit

from sqlalchemy import select

from tests.factories import make_user, unique, valid_case
from tests.web.support import CHROMIUM_ARGS, HOST, Walk

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
SCREENSHOT = "/tmp/jishi-case.png"
FAILURE_SCREENSHOT = "/tmp/jishi-case-failure.png"
PROBLEMS_SCREENSHOT = "/tmp/jishi-case-problems.png"
PRE_SIGN = ["qualification", "motion", "nomination", "recommendation", "inspection", "consultation", "decision"]
AFTER_DECISION = ["publicity", "appointment"]
ALL_STEPS = PRE_SIGN + AFTER_DECISION + ["signature", "submission"]
# The procedure's dates (modules 2–9) move together by a per-run offset, so that this case's
# 讨论决定 meeting is not a batch shared with (and perhaps locked by) another test's case.
SHIFTED = ("motion", "nomination", "recommendation", "inspection", "consultation", "decision", "publicity",
           "appointment")
AGREE = "情况属实同意报送"
POSTS = {1: "组织部副部长", 2: "组织部部长", 3: "党委书记"}
TIMEOUT = 30_000  # ms


def _case_values(unit_code: str) -> dict:
    values = valid_case()
    shift = dt.timedelta(days=random.randrange(150, 460))
    for key in SHIFTED:
        for item, value in values[key].items():
            if isinstance(value, dt.date):
                values[key][item] = value - shift
    values["motion"]["reporting_unit"] = unit_code
    values["motion"]["target_unit"] = unit_code
    return values


class CaseWalk(Walk):
    label = "browser-case"

    def logout(self) -> None:
        if self.page is not None:
            self.page.goto(f"{self.base}/logout/")  # asks; the button posts with the CSRF token
            with self.page.expect_navigation():
                self.page.click("#logout-page button[type=submit]")
            self.page.context.close()
            self.page = None

    def states(self) -> dict[str, str]:
        rows = self.page.locator("#modules tbody tr[data-module]")
        return {rows.nth(i).get_attribute("data-module"): rows.nth(i).locator(".module-state").inner_text().strip()
                for i in range(rows.count())}

    def link_text(self, key: str) -> str:
        return self.page.locator(f"#modules tr[data-module={key}] .module-link").inner_text().strip()


def _pdf(tmp_path, filename: str) -> str:
    path = tmp_path / filename
    if not path.exists():
        path.write_bytes(PDF)
    return str(path)


def _fill_module(page, key: str, values: dict, tmp_path) -> None:
    """Fill every item of one module form as a person would: type, choose, attach."""
    from app.views.case_forms import editable_items, form_data_from_values

    data = form_data_from_values(values, key)
    for item in editable_items(key):
        field = f"#module-form [name='{item.key}']"
        if item.kind == "file-ref":
            if values.get(item.key):
                page.set_input_files(field, _pdf(tmp_path, values[item.key]))
            continue
        value = data.get(item.key)
        if value is None or value == "" or value == []:
            continue
        if item.kind in ("bool", "enum"):
            page.select_option(field, str(value))
        elif item.kind == "enum*":
            page.select_option(field, [str(v) for v in value])
        elif isinstance(value, dt.date):
            page.fill(field, value.isoformat())
        else:
            page.fill(field, str(value))
    page.fill("#module-form [name=handler]", "经办人甲")
    page.fill("#module-form [name=leader]", "责任领导乙")


def _open_step(walk: Walk, key: str, expected_link: str) -> None:
    page = walk.page
    assert walk.link_text(key) == expected_link, f"{key}: link says {walk.link_text(key)!r}"
    walk.click_and_wait(f"#modules tr[data-module={key}] .module-link")
    assert page.locator("#module-page").get_attribute("data-module") == key, page.url


def _complete_step(walk: Walk, case_url: str, key: str) -> None:
    page = walk.page
    walk.click_and_wait("#complete-btn")
    if urlsplit(page.url).path != urlsplit(case_url).path:
        problems = page.locator("#problems, #missing, .item-error, .alert-danger")
        detail = " | ".join(problems.nth(i).inner_text() for i in range(problems.count()))
        raise AssertionError(f"completing {key} did not return to the case page ({page.url}): {detail}")
    state = walk.states()[key]
    assert state == "已完成", f"{key} is {state!r} after 保存并完成本环节; {walk.flashes()}"


def test_case_from_motion_to_second_submission(chromium, app, world, live_server, tmp_path):
    from app.audit import acting_as
    from app.extensions import db
    from app.models import Case, Submission, Unit
    from app.record.data import sha256_text

    executable, sync_playwright, expect = chromium
    base = live_server
    started = time.monotonic()

    # Two more 签字领导 of unit A, besides the world's signer_a.
    tag = unique("bc").lower()
    signers = [world.users["signer_a"], f"signer2_{tag}", f"signer3_{tag}"]
    with app.app_context(), acting_as("测试夹具", "cli"):
        sm = app.appbuilder.sm
        for username in signers[1:]:
            make_user(sm, username, ["签字领导"], world.units["a"])
        db.session.commit()
        unit_code = db.session.get(Unit, world.units["a"]).code
    values = _case_values(unit_code)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        walk = CaseWalk(browser, base, TIMEOUT)
        with walk.failing(FAILURE_SCREENSHOT):
            # ---- 1. the clerk creates the case ----------------------------------------------------
            walk.step("1 clerk_a logs in and opens 全程记实 → 案例")
            page = walk.login(world.users["clerk_a"])
            menu = page.locator(".navbar").get_by_text("全程记实", exact=True)
            expect(menu).to_be_visible()
            menu.click()
            cases_link = page.locator(".navbar .dropdown-menu a").filter(has_text=re.compile(r"^\s*案例\s*$"))
            expect(cases_link).to_be_visible()
            with page.expect_navigation():
                cases_link.click()
            assert urlsplit(page.url).path == "/cases/list/", page.url

            walk.step("1 clerk_a clicks 新建案例, reads what will be created and confirms")
            walk.click_and_wait("#create-btn")
            assert urlsplit(page.url).path == "/cases/new", page.url
            expect(page.locator("#case-new-effects")).to_contain_text("不能删除")
            walk.click_and_wait("#confirm-btn")
            m = re.fullmatch(r"/cases/show/(\d+)", urlsplit(page.url).path)
            assert m, f"新建案例 did not open a case page: {page.url} {walk.flashes()}"
            case_id = int(m.group(1))
            case_url = f"{base}/cases/show/{case_id}"
            with app.app_context():
                case_no = db.session.get(Case, case_id).case_no
            assert "已新建案例" in walk.flashes() and case_no in walk.flashes()
            expect(page.locator("#case-status")).to_have_text("草稿")
            states = walk.states()
            assert list(states) == ALL_STEPS, states
            assert set(states.values()) == {"未填"}, states

            # ---- 2. modules 1–7 ---------------------------------------------------------------
            for key in PRE_SIGN:
                walk.step(f"2 clerk_a fills and completes {key}")
                _open_step(walk, key, "填写")
                _fill_module(page, key, values[key], tmp_path)
                if key == "qualification":
                    walk.step("2 qualification: a wrong ID check digit first")
                    good = values[key]["id_card_no"]
                    wrong = good[:17] + ("0" if good[17] != "0" else "1")
                    page.fill("#module-form [name=id_card_no]", wrong)
                    walk.click_and_wait("#complete-btn")
                    assert urlsplit(page.url).path.endswith("/module/qualification"), page.url
                    problems = page.locator("#problems")
                    expect(problems).to_be_visible()
                    item = problems.locator("li[data-key=id_card_no]")
                    expect(item).to_have_count(1)
                    assert "校验" in item.inner_text(), item.inner_text()
                    assert "未保存" in problems.inner_text()
                    assert page.input_value("#module-form [name=id_card_no]") == wrong
                    assert page.input_value("#module-form [name=full_name]") == values[key]["full_name"]
                    assert page.locator("[data-item=id_card_no] .item-error").count() >= 1
                    page.screenshot(path=PROBLEMS_SCREENSHOT)
                    walk.step("2 qualification: corrected and completed")
                    page.fill("#module-form [name=id_card_no]", good)
                _complete_step(walk, case_url, key)
                assert "已完成" in walk.flashes(), walk.flashes()
            states = walk.states()
            assert all(states[k] == "已完成" for k in PRE_SIGN), states
            assert states["publicity"] == "未填" and states["appointment"] == "未填", states
            walk.logout()

            # ---- 3. three leaders sign ----------------------------------------------------------
            for level, username in enumerate(signers, start=1):
                walk.step(f"3 {username} signs at level {level}")
                page = walk.login(username)
                page.goto(case_url)
                page.wait_for_load_state("load")
                form = page.locator("#sign-form")
                expect(form).to_be_visible()
                form.locator("select[name=level]").select_option(str(level))
                form.locator("input[name=post]").fill(POSTS[level])
                form.locator("select[name=opinion]").select_option(AGREE)
                with page.expect_navigation():
                    form.locator("[type=submit]").click()
                page.wait_for_load_state("load")
                assert "已签字" in walk.flashes(), walk.flashes()
                rows = page.locator("#signatures tbody tr")
                expect(rows).to_have_count(level)
                assert username in rows.nth(level - 1).inner_text() and POSTS[level] in rows.nth(level - 1).inner_text()
                walk.logout()
            walk.step("3 three signatures listed")
            page = walk.login(world.users["clerk_a"])
            page.goto(case_url)
            page.wait_for_load_state("load")
            rows = page.locator("#signatures tbody tr")
            expect(rows).to_have_count(3)
            listed = [rows.nth(i).inner_text() for i in range(3)]
            for level, username in enumerate(signers, start=1):
                assert username in listed[level - 1] and AGREE in listed[level - 1], listed
                assert "已作废" not in listed[level - 1], listed

            # ---- 4. pledge, 初次提交, 公示 and 任职, 二次提交 ---------------------------------------
            walk.step("4 clerk_a makes the pledge")
            walk.click_and_wait("#pledge-btn")
            assert "已作出真实性承诺" in walk.flashes(), walk.flashes()
            expect(page.locator("#pledge-btn")).to_have_count(0)
            walk.step("4 clerk_a submits (初次提交)")
            walk.click_and_wait("#submit1-btn")
            expect(page.locator("#case-status")).to_have_text("已初次提交")
            assert "已提交" in walk.flashes(), walk.flashes()
            for key in PRE_SIGN:
                assert walk.link_text(key) == "查看", f"{key} after 初次提交: {walk.link_text(key)!r}"
            for key in AFTER_DECISION:
                assert walk.link_text(key) == "填写", f"{key} after 初次提交: {walk.link_text(key)!r}"
            walk.step("4 a locked step shows the lock notice")
            walk.click_and_wait("#modules tr[data-module=motion] .module-link")
            assert "本环节已锁定" in walk.body(), walk.body()[:1000]
            assert page.locator("#module-form fieldset").get_attribute("disabled") is not None
            expect(page.locator("#complete-btn")).to_be_disabled()
            expect(page.locator("#module-form [name=target_post]")).to_have_value(values["motion"]["target_post"])
            page.goto(case_url)
            page.wait_for_load_state("load")

            for key in AFTER_DECISION:
                walk.step(f"4 clerk_a fills and completes {key}")
                _open_step(walk, key, "填写")
                _fill_module(page, key, values[key], tmp_path)
                _complete_step(walk, case_url, key)

            walk.step("4 clerk_a submits again (二次提交)")
            walk.click_and_wait("#submit2-btn")
            expect(page.locator("#case-status")).to_have_text("已二次提交")
            assert "已二次提交" in walk.flashes(), walk.flashes()
            subs = page.locator("#submissions tbody tr")
            expect(subs).to_have_count(2)
            first_hash = subs.nth(0).locator("td").nth(4).inner_text().strip().rstrip("…")
            first_prev = subs.nth(0).locator("td").nth(5).inner_text().strip()
            second_prev = subs.nth(1).locator("td").nth(5).inner_text().strip()
            assert re.fullmatch(r"[0-9a-f]{16}", first_hash), first_hash
            assert first_prev == "—", first_prev  # the first submission has no predecessor
            assert second_prev == first_hash, (first_hash, second_prev)
            assert "初次" in subs.nth(0).inner_text() and "二次" in subs.nth(1).inner_text()
            for i in range(2):  # the 版本 column is the case's version, not its database id
                assert subs.nth(i).locator("td").nth(1).inner_text().strip() == "v1", subs.nth(i).inner_text()
            expect(page.locator("#submit2-btn")).to_have_count(0)
            with app.app_context():
                stored = db.session.execute(select(Submission).where(Submission.root_id == case_id)
                                            .order_by(Submission.id)).scalars().all()
                assert [s.node for s in stored] == [1, 2]
                assert stored[0].sha256[:16] == first_hash and stored[1].prev_sha256 == stored[0].sha256
                assert all(s.sha256 == sha256_text(s.snapshot) for s in stored)
            expect(page.locator("#sign-form")).to_have_count(0)
            walk.logout()

            # ---- 5. the supervisor; the sibling's clerk ---------------------------------------
            walk.step("5 sup_root finds the case in the list")
            page = walk.login(world.users["sup_root"])
            page.goto(f"{base}/cases/list/")
            page.wait_for_load_state("load")
            row = page.locator("table tr").filter(has_text=case_no)
            expect(row).to_have_count(1)
            assert "已二次提交" in row.inner_text(), row.inner_text()
            walk.step("5 sup_root opens the case")
            show = row.locator(f"a[href='/cases/show/{case_id}'], a[href^='/cases/show/{case_id}?']").first
            with page.expect_navigation():
                show.click()
            page.wait_for_load_state("load")
            assert urlsplit(page.url).path == f"/cases/show/{case_id}", page.url
            expect(page.locator("#case-status")).to_have_text("已二次提交")
            subs = page.locator("#submissions tbody tr")
            expect(subs).to_have_count(2)
            assert subs.nth(1).locator("td").nth(5).inner_text().strip() == first_hash
            expect(page.locator("#return-form")).to_be_visible()  # the supervisor may send it back
            # (the page's 修改痕迹 table makes it very long: the top shows steps, signatures, submissions)
            page.set_viewport_size({"width": 1280, "height": 1400})
            page.screenshot(path=SCREENSHOT)
            walk.logout()

            walk.step("5 clerk_b gets 404 on the case page")
            page = walk.login(world.users["clerk_b"])
            resp = page.goto(case_url)
            assert resp is not None and resp.status == 404, resp and resp.status
            assert case_no not in page.content()
            walk.logout()

    print(f"[browser-case] walked in {time.monotonic() - started:.1f}s", flush=True)
    assert walk.requested, "the browser recorded no request at all"
    foreign = [url for url in walk.requested
               if urlsplit(url).scheme not in ("data", "blob", "about") and urlsplit(url).hostname != HOST]
    assert not foreign, "requests that left 127.0.0.1:\n" + "\n".join(foreign)
    assert not walk.failed, "requests that failed:\n" + "\n".join(walk.failed)
