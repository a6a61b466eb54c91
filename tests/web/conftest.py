"""The browser tests' fixtures: Debian's headless Chromium through Playwright, and the session app served
on 127.0.0.1. Never run `playwright install`: the browser is the distribution's /usr/bin/chromium."""
from __future__ import annotations

import os
import shutil
import threading

import pytest

from tests.web.support import HOST


def _skip(reason: str):
    print(f"SKIP test_browser: {reason}")
    pytest.skip(reason)


def _chromium_executable() -> str:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium")):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    _skip("Chromium not found (neither /usr/bin/chromium nor `chromium` on PATH); "
          "install Debian's `chromium` package to run the browser test")


@pytest.fixture()
def chromium():
    """(executable, sync_playwright) — or a skip that says what is missing."""
    executable = _chromium_executable()
    try:
        from playwright.sync_api import expect, sync_playwright
    except ImportError as exc:
        _skip(f"Python Playwright cannot be imported ({exc}); install the `test` extra")
    return executable, sync_playwright, expect


@pytest.fixture()
def live_server(app):
    """The session app on 127.0.0.1, on a port the OS picks, until the test ends."""
    from werkzeug.serving import make_server

    server = make_server(HOST, 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="jishi-live-server", daemon=True)
    thread.start()
    try:
        yield f"http://{HOST}:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
