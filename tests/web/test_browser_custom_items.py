"""自定义数据项 in a real browser: an admin adds a province's item on /customitems/ (a wrong type first,
refused in Chinese), the clerk of a unit in its scope sees it in the generated form with its help text,
fills it (a date field), and finds it on the case page; a clerk elsewhere does not see
it. Screenshots in /tmp/shots/items/."""
from __future__ import annotations

import os

from tests.factories import office_ids, unique
from tests.web.support import CHROMIUM_ARGS, Walk

SHOTS = "/tmp/shots/items"
TIMEOUT = 30_000


def test_admin_adds_an_item_and_the_clerk_fills_it(chromium, app, world, live_server):
    executable, sync_playwright, expect = chromium
    os.makedirs(SHOTS, exist_ok=True)
    ids = office_ids(app, world, "bci")
    key = unique("lz").lower()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        walk = Walk(browser, live_server, TIMEOUT)
        with walk.failing(f"{SHOTS}/failure.png"):
            walk.step("1 the admin opens 自定义数据项 and adds an item with a wrong date")
            page = walk.login(world.users["admin"])
            walk.goto("/customitems/")
            page.select_option("#ci-module", "inspection")
            page.fill("#ci-key", key)
            page.fill("#ci-label", "任前廉政谈话日期")
            page.select_option("#ci-type", "date")
            page.fill("#ci-effective", "2020-02-30")
            page.fill("#ci-unit", ids.code)
            page.fill("#ci-help", "以谈话记录为准")
            walk.click_and_wait("#ci-save")
            assert "生效日期“2020-02-30”无效" in walk.body()
            assert page.input_value("#ci-key") == key  # what was typed is kept
            page.screenshot(path=f"{SHOTS}/admin-refused.png", full_page=True)
            walk.step("2 corrects the date and saves: the item is listed")
            page.fill("#ci-effective", "2020-01-01")
            walk.click_and_wait("#ci-save")
            assert "已添加自定义数据项“任前廉政谈话日期”" in walk.flashes()
            expect(page.locator(f'#custom-item-list tr[data-key="{key}"]')).to_contain_text(ids.code)
            page.screenshot(path=f"{SHOTS}/admin-list.png", full_page=True)
            page.context.close()

            walk.step("3 the unit's clerk creates a case and opens 考察: the item is in the form")
            page = walk.login(ids.clerk)
            walk.goto("/cases/list/")
            walk.click_and_wait("#create-btn")
            walk.click_and_wait("#confirm-btn")
            case_url = page.url
            walk.click_and_wait(page.locator("#modules tr[data-module=inspection] .module-link"))
            field = page.locator(f'[data-item="{key}"]')
            expect(field).to_contain_text("任前廉政谈话日期")
            expect(field).to_contain_text("以谈话记录为准")
            expect(field).to_contain_text("自定义")
            walk.step("4 the clerk enters the date (a date field: the browser's own picker) and saves")
            page.fill(f"input[name={key}]", "2026-02-27")
            walk.click_and_wait("#save-btn")
            assert page.input_value(f"input[name={key}]") == "2026-02-27"
            walk.goto(case_url.replace(live_server, ""))
            expect(page.locator(f'#custom-items tr[data-item="{key}"]')).to_contain_text("2026-02-27")
            page.screenshot(path=f"{SHOTS}/case-page.png", full_page=True)
            page.context.close()

            walk.step("5 a clerk of another unit does not see it")
            page = walk.login(world.users["clerk_b"])
            walk.goto("/cases/list/")
            walk.click_and_wait("#create-btn")
            walk.click_and_wait("#confirm-btn")
            walk.click_and_wait(page.locator("#modules tr[data-module=inspection] .module-link"))
            assert page.locator(f'[data-item="{key}"]').count() == 0
            assert "任前廉政谈话日期" not in walk.body()
        assert walk.errors == []
