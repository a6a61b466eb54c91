"""What the page and browser tests share: the browser's host and flags, which routes a crawl may GET."""
from __future__ import annotations

from contextlib import contextmanager
from urllib.parse import urlsplit

from tests.factories import PASSWORD

HOST = "127.0.0.1"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def crawlable(rule) -> bool:
    if "GET" not in rule.methods or rule.arguments:
        return False
    if rule.rule == "/logout/" or rule.rule.startswith("/lang/"):
        return False
    if rule.endpoint == "static" or rule.endpoint.endswith(".static"):
        return False
    return True


class Walk:
    """A browser walk: its pages and what they requested (``requested``, ``failed``, ``errors`` ≥ 500);
    ``step`` names what is being done, and ``failing`` screenshots the page where a step fails."""

    label = "browser"

    def __init__(self, browser, base: str, timeout: int = 30_000):
        self.browser, self.base, self.timeout = browser, base, timeout
        self.requested: list[str] = []
        self.failed: list[str] = []
        self.errors: list[str] = []
        self.step_name = ""
        self.page = None

    def step(self, name: str) -> None:
        self.step_name = name
        print(f"[{self.label}] {name}", flush=True)

    def _failed(self, req) -> None:
        self.failed.append(f"{req.url}: {req.failure}")

    def login(self, username: str):
        """A fresh browser context (its own cookies) logged in through the login form."""
        context = self.browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        context.set_default_timeout(self.timeout)
        context.set_default_navigation_timeout(self.timeout)
        page = context.new_page()
        page.on("request", lambda req: self.requested.append(req.url))
        page.on("requestfailed", self._failed)
        page.on("response", lambda resp: resp.status >= 500 and self.errors.append(f"{resp.status} {resp.url}"))
        self.page = page
        resp = page.goto(f"{self.base}/login/")
        assert resp is not None and resp.status == 200, f"login page: {resp and resp.status}"
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        with page.expect_navigation():
            page.click("form [type=submit]")
        page.wait_for_load_state("load")
        assert "/login" not in urlsplit(page.url).path, f"{username} could not log in: {self.body()[:500]}"
        return page

    def goto(self, path: str, status: int = 200):
        resp = self.page.goto(f"{self.base}{path}")
        self.page.wait_for_load_state("load")
        assert resp is not None and resp.status == status, f"{path}: {resp and resp.status}\n{self.body()[:800]}"
        return resp

    def body(self) -> str:
        return self.page.locator("body").inner_text()

    def click_and_wait(self, selector_or_locator) -> None:
        target = (self.page.locator(selector_or_locator) if isinstance(selector_or_locator, str)
                  else selector_or_locator)
        with self.page.expect_navigation():
            target.click()
        self.page.wait_for_load_state("load")

    def flashes(self) -> str:
        alerts = self.page.locator(".alert")
        return " | ".join(alerts.nth(i).inner_text().strip() for i in range(alerts.count()))

    @contextmanager
    def failing(self, screenshot: str):
        """On any failure: say at which step, keep a screenshot of the page, close the browser."""
        try:
            yield self
        except BaseException:
            print(f"[{self.label}] FAILED at step: {self.step_name}", flush=True)
            if self.page is not None:
                try:
                    self.page.screenshot(path=screenshot, full_page=True)
                    print(f"[{self.label}] page {self.page.url}; screenshot {screenshot}", flush=True)
                except Exception as exc:  # noqa: BLE001 - the original failure matters more
                    print(f"[{self.label}] no screenshot: {exc}", flush=True)
            raise
        finally:
            self.browser.close()
