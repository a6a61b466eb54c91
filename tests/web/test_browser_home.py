"""The four home pages (工作台) in a real browser (Debian's Chromium through Playwright) over the demo data
(`flask jishi seed-demo`): admin, a clerk and a leader of 市教育局, and the city's supervisor. Each logs in
through the form, lands on its 工作台 (not FAB's "欢迎"), sees its role's section, and a number followed
from the page opens a list with that many rows. Screenshots: /tmp/shots/home/<role>.png.

Every request the browser makes stays on 127.0.0.1. Skipped (with the reason printed) when Chromium or
Python Playwright is missing (tests/web/conftest.py).
"""
from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select
from werkzeug.security import generate_password_hash

from tests.factories import PASSWORD
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


def test_each_roles_home_page(chromium, demo, live_server):
    executable, sync_playwright, _ = chromium
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
                page.context.close()
            walk.step("every request stayed on this machine")
            foreign = [u for u in walk.requested if urlsplit(u).hostname != HOST]
            assert not foreign, foreign
            assert not walk.errors, walk.errors
