"""The four home pages (工作台) in a real browser (Debian's Chromium through Playwright) over the demo data
(`flask jishi seed-demo`): admin, a clerk and a leader of 市教育局, and the city's supervisor. Each logs in
through the form, lands on its 工作台 (not FAB's "欢迎"), sees its role's section, and a number followed
from the page opens a list with that many rows. Screenshots: /tmp/shots/home/<role>.png.

Every request the browser makes stays on 127.0.0.1. Skipped (with the reason printed) when Chromium or
Python Playwright is missing (tests/web/conftest.py).
"""
from __future__ import annotations

import os
import re
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from tests.factories import PASSWORD
from tests.views.test_page_scan import SKIP_URL, data_words, findings, raw_keys, visible_text
from tests.web.support import CHROMIUM_ARGS, HOST, Walk

SHOTS = "/tmp/shots/home"
ROLES = (  # (screenshot, demo account, the section its role shows, a number to follow)
    ("admin", "admin", "section-admin", "failed"),
    ("clerk", "jyj_tby", "section-clerk", "drafts"),
    ("signer", "jyj_qz1", "section-signer", "to_sign"),
    ("supervisor", "szzb_jdy", "section-supervisor", "red"),
)


@pytest.fixture()
def demo(app, world):
    """The demo organisation and cases, with the four accounts' passwords set to the tests' own."""
    from app.audit import acting_as
    from app.extensions import db
    from app.models import AppUser, Unit

    with app.app_context():
        seeded = db.session.execute(select(Unit.id).where(Unit.code == "SZZB")).first() is not None
    if not seeded:
        result = app.test_cli_runner().invoke(args=["jishi", "seed-demo"])
        assert result.exit_code == 0, result.output
    with app.app_context(), acting_as("测试夹具", "cli"):
        for _, username, _, _ in ROLES:
            user = db.session.execute(select(AppUser).where(AppUser.username == username)).scalar_one()
            user.password = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
            user.locked_until, user.fail_login_count = None, 0
        db.session.commit()


def _menu_and_case_pages(walk, page) -> list[str]:
    """The pages issue 14 saw, as this role reaches them: every entry of the navigation menu (角色, 修改痕迹,
    任务运行记录, 硬杠规则, 规则参数, 节假日, 案例人员, 实时监控, 统计分析, 通报 …), then the first case of the
    case list with its 11 steps' forms, its 版本比较 links and 新建案例's question."""
    walk.goto("/")
    links = page.eval_on_selector_all(".navbar .dropdown-menu a[href], .navbar-nav > li > a[href]",
                                      "els => els.map(e => e.getAttribute('href'))")
    urls = [u for u in links if u and u.startswith("/") and not SKIP_URL.search(u)]
    walk.goto("/cases/list/")
    first = page.locator("a[href^='/cases/show/']").first
    if first.count():
        case_url = first.get_attribute("href")
        walk.goto(case_url)
        urls.append(case_url)
        more = page.eval_on_selector_all("a[href*='/module/'], a[href*='/diff/']",
                                         "els => els.map(e => e.getAttribute('href'))")
        urls += list(dict.fromkeys(more))[:13]
    if page.locator("#create-btn").count():
        urls.append("/cases/new")
    return list(dict.fromkeys(urls))


def entered_words(app) -> set[str]:
    """Words users typed into the shared test database (a spot check titled "matrix", the seed "abc", a
    custom item's or custom rule's name) and who ran a background task (a command run by hand is recorded
    as user@command): data, shown as recorded. The demo-only crawl (tests/views/test_page_scan.py) has
    none of these."""
    from app.extensions import db
    from app.models import CustomItem, CustomRuleVersion, Finding, Notice, SavedQuery, SpotCheck, TaskRun

    columns = (SpotCheck.title, SpotCheck.seed, Finding.description, Notice.title, SavedQuery.name,
               TaskRun.triggered_by, CustomItem.label, CustomItem.help_text, CustomRuleVersion.title,
               CustomRuleVersion.basis, CustomRuleVersion.note)
    words = set()
    with app.app_context():
        for column in columns:
            for (value,) in db.session.execute(select(column).where(column.is_not(None))):
                words |= set(re.findall(r"[A-Za-z][A-Za-z_]*", value))
        db.session.remove()
    return words


def read_pages(walk, page, urls, keys, data) -> list[str]:
    """Each page's visible text through the page scan's checker (tests/views/test_page_scan.py)."""
    bad = []
    for url in urls:
        resp = page.goto(f"{walk.base}{url}")
        page.wait_for_load_state("load")
        if resp is not None and resp.status == 403:
            continue  # a signer sees the steps' links; entering them is the clerk's (the page says so, in Chinese)
        assert resp is not None and resp.status == 200, f"{url}: {resp and resp.status}"
        problems = findings(visible_text(page.content()), keys, data)
        if problems:
            bad.append(f"{url}\n    " + "\n    ".join(problems[:8]))
    return bad


def test_each_roles_home_page(chromium, app, demo, live_server):
    executable, sync_playwright, _ = chromium
    with app.app_context():
        keys = raw_keys()
    data = data_words(app) | entered_words(app)
    os.makedirs(SHOTS, exist_ok=True)
    with sync_playwright() as pw:
        walk = Walk(pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS), live_server)
        walk.label = "home"
        with walk.failing(f"{SHOTS}/failed.png"):
            for role, username, section, key in ROLES:
                walk.step(f"{role}: log in as {username} and land on the 工作台")
                page = walk.login(username)
                assert urlsplit(page.url).path == "/", page.url
                text = walk.body()
                assert "工作台" in text and "欢迎" not in text and "Welcome" not in text
                assert page.locator(f"#{section}").count() == 1, f"{role}: no {section}"
                page.screenshot(path=f"{SHOTS}/{role}.png", full_page=True)
                walk.step(f"{role}: follow the number {key}")
                tile = page.locator(f"[data-n={key}]")
                number = int(tile.inner_text())
                walk.click_and_wait(tile)
                if key == "failed":  # the task run list, filtered on 失败
                    assert "/taskruns/list/" in page.url
                    rows = page.locator("table tbody tr:has(a[href*='/taskruns/show/'])").count()
                    assert rows == min(number, 20), (number, rows)
                else:
                    total = int(page.locator("#home-list-total").inner_text())
                    assert total == number and page.locator(".home-row").count() == min(number, 20)
                page.screenshot(path=f"{SHOTS}/{role}-list.png", full_page=True)
                walk.step(f"{role}: every page of the menu, and a case's pages, in the users' language")
                urls = _menu_and_case_pages(walk, page)
                assert len(urls) >= 8, urls  # the menu's pages and a case's, not an empty walk
                print(f"[home] {role}: {len(urls)} pages read")
                bad = read_pages(walk, page, urls, keys, data)
                assert not bad, f"{role}: " + "\n".join(bad)
                page.context.close()
            walk.step("every request stayed on this machine")
            foreign = [u for u in walk.requested if urlsplit(u).hostname != HOST]
            assert not foreign, foreign
            assert not walk.errors, walk.errors
