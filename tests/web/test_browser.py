"""End to end in a real browser: Debian's headless Chromium driven by Playwright (sync API).

The session app is served on 127.0.0.1 from a background thread. The clerk of unit A logs in
through the Chinese login form, finds the Chinese menu, opens the unit list through it and sees
only their own unit; the sibling unit's record page, opened by URL, is a 404 that does not
leak the sibling's name. Every request the browser makes must stay on 127.0.0.1 (the system
runs on a closed network).

The browser and the server are tests/web/conftest.py's fixtures.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

from tests.factories import PASSWORD
from tests.web.support import CHROMIUM_ARGS, HOST

SCREENSHOT = "/tmp/jishi-browser.png"


def test_clerk_logs_in_and_sees_only_own_unit(chromium, world, live_server):
    executable, sync_playwright, expect = chromium
    base = live_server
    name_a, name_b = world.names["a"], world.names["b"]
    requested: list[str] = []
    failed: list[str] = []

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            # The browser prefers English: the app must still be Chinese (its default language).
            context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.on("request", lambda req: requested.append(req.url))
            page.on("requestfailed", lambda req: failed.append(f"{req.url}: {req.failure}"))

            # The login page is Chinese.
            resp = page.goto(f"{base}/login/")
            assert resp is not None and resp.status == 200
            assert '<html lang="zh-CN">' in resp.text()
            assert page.evaluate("document.documentElement.lang") == "zh-CN"
            body = page.locator("body").inner_text()
            assert "登录" in body and "用户名" in body, body[:500]

            # Log in through the form, as a person would.
            page.locator("input[name=username]").fill(world.users["clerk_a"])
            page.locator("input[name=password]").fill(PASSWORD)
            with page.expect_navigation():
                page.locator("form [type=submit]").click()
            assert "/login" not in urlsplit(page.url).path, page.locator("body").inner_text()[:500]

            # The Chinese menu; the unit list is reached through it.
            org_menu = page.locator(".navbar").get_by_text("组织机构", exact=True)
            expect(org_menu).to_be_visible()
            org_menu.click()
            # (the label follows an icon and a non-breaking space)
            units_link = page.locator(".navbar .dropdown-menu a").filter(
                has_text=re.compile(r"^\s*单位\s*$"))
            expect(units_link).to_be_visible()
            with page.expect_navigation():
                units_link.click()
            assert urlsplit(page.url).path == "/unitview/list/"
            body = page.locator("body").inner_text()
            assert "单位列表" in body
            assert name_a in body
            assert name_b not in page.content()
            page.screenshot(path=SCREENSHOT, full_page=True)

            # The sibling's record, opened by URL: not found, and nothing of it shown.
            resp = page.goto(f"{base}/unitview/show/{world.units['b']}")
            assert resp is not None and resp.status == 404
            assert name_b not in page.content()
            assert name_b not in resp.text()
            # The same route does serve the clerk's own unit (the 404 is about scope, not the URL).
            resp = page.goto(f"{base}/unitview/show/{world.units['a']}")
            assert resp is not None and resp.status == 200
            assert name_a in page.locator("body").inner_text()
        finally:
            browser.close()

    assert requested, "the browser recorded no request at all"
    assert any("/static/" in url for url in requested), "no static asset was loaded"
    foreign = [url for url in requested
               if urlsplit(url).scheme not in ("data", "blob", "about")
               and urlsplit(url).hostname != HOST]
    assert not foreign, "requests that left 127.0.0.1:\n" + "\n".join(foreign)
    assert not failed, "requests that failed:\n" + "\n".join(failed)
