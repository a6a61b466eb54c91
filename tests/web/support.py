"""What the page and browser tests share: the browser's host and flags, which routes a crawl may GET."""
from __future__ import annotations

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
