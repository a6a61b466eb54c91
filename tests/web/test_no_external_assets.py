"""No page of the app may reference another host: the system runs on a closed network.

A crawl logs in as the system administrator and GETs every registered rule that takes no URL
parameter (static files, /logout/ and the /lang/ switches excepted), plus the login page
anonymously and the show/edit pages of world unit A. Every HTML page that answers 200 is parsed
for ``src=``, ``href=``, ``action=`` (and their srcset/formaction/poster relatives) and CSS
``url(...)`` references: any absolute ``http(s)://…`` or protocol-relative ``//…`` reference is an
offender, whichever host it names (the app itself only ever links relatively). Every such page
must also declare ``<html lang="zh-CN">``.

The crawl only proves something if the administrator really reaches the pages, so the statuses
are checked too: nothing may answer 5xx, and the administrator (FAB's AUTH_ROLE_ADMIN, who holds
every permission) may not be refused a route whose permission the view itself declares.
"""
from __future__ import annotations

import html as html_lib
import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from flask_appbuilder.const import PERMISSION_PREFIX
from tests.web.support import crawlable

LANG_TAG = '<html lang="zh-CN">'

# attribute="value", attribute='value' or attribute=value; also matches JS such as `x.src = "…"`.
_ATTR_RE = re.compile(
    r"""(?<![\w-])(?P<attr>src|href|action|srcset|formaction|poster|data-src|data-href)\s*=\s*"""
    r"""(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\s"'<>`]+))""",
    re.IGNORECASE,
)
_CSS_URL_RE = re.compile(r"""url\(\s*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^)'"\s]*))\s*\)""",
                         re.IGNORECASE)
_CSS_IMPORT_RE = re.compile(r"""@import\s+(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)')""", re.IGNORECASE)


def extract_references(page: str) -> list[str]:
    """Every URL-like reference of an HTML page (attributes, inline CSS and inline scripts)."""
    refs: list[str] = []
    for m in _ATTR_RE.finditer(page):
        value = html_lib.unescape(m.group("dq") or m.group("sq") or m.group("bare") or "").strip()
        if m.group("attr").lower() == "srcset":
            refs += [part.strip().split()[0] for part in value.split(",") if part.strip()]
        else:
            refs.append(value)
    for regex in (_CSS_URL_RE, _CSS_IMPORT_RE):
        for m in regex.finditer(page):
            refs.append(html_lib.unescape(m.group("dq") or m.group("sq") or m.group("bare") or "").strip())
    return refs


def is_external(ref: str) -> bool:
    """Absolute (scheme://host…) or protocol-relative (//host…) references name a host."""
    ref = ref.strip()
    # Browsers treat backslashes like slashes in special URLs ("\\\\evil.example" → //evil.example).
    normalised = ref.replace("\\", "/")
    if normalised.startswith("//"):
        return True
    parts = urlsplit(normalised)
    return bool(parts.netloc) or (parts.scheme.lower() in {"http", "https", "ws", "wss", "ftp"})


@dataclass
class Page:
    label: str  # who fetched it
    path: str
    status: int
    mimetype: str
    text: str
    endpoint: str | None = None
    refs: list = field(default_factory=list)

    @property
    def is_html_200(self) -> bool:
        return self.status == 200 and self.mimetype == "text/html"


def _fetch(client, label, path, endpoint=None) -> Page:
    resp = client.get(path)
    text = resp.get_data(as_text=True) if resp.mimetype.startswith("text/") else ""
    page = Page(label, path, resp.status_code, resp.mimetype, text, endpoint)
    if page.is_html_200:
        page.refs = extract_references(text)
    return page


_crawls: dict = {}  # one crawl per app (the app is session-scoped)


@pytest.fixture()
def crawl(app, world, client_for) -> list[Page]:
    if id(app) not in _crawls:
        _crawls[id(app)] = _crawl(app, world, client_for)
    return _crawls[id(app)]


def _crawl(app, world, client_for) -> list[Page]:
    rules = sorted({(r.rule, r.endpoint) for r in app.url_map.iter_rules() if crawlable(r)})
    assert rules, "no crawlable rule found in app.url_map"
    admin = client_for("admin")
    pages = [_fetch(admin, "admin", rule, endpoint) for rule, endpoint in rules]
    a = world.units["a"]
    pages.append(_fetch(admin, "admin", f"/unitview/show/{a}", "UnitView.show"))
    pages.append(_fetch(admin, "admin", f"/unitview/edit/{a}", "UnitView.edit"))
    pages.append(_fetch(app.test_client(), "anonymous", "/login/", "login"))
    return pages


def _declared_permission(app, endpoint: str | None) -> str | None:
    """The permission a FAB view declares for this endpoint, if the endpoint is protected.

    FAB marks a protected method with ``_permission_name`` and resolves its permission with
    ``view.get_method_permission``; a permission the view lists in base_permissions is grantable,
    and the admin role must hold every grantable permission."""
    if not endpoint or "." not in endpoint:
        return None
    view_name, method = endpoint.split(".", 1)
    for view in app.appbuilder.baseviews:
        if getattr(view, "endpoint", None) != view_name and type(view).__name__ != view_name:
            continue
        fn = getattr(view, method, None)
        if fn is None or not hasattr(fn, "_permission_name"):
            return None  # not protected (e.g. overridden to answer 404)
        perm = PERMISSION_PREFIX + (view.get_method_permission(method) or method)
        return perm if perm in (view.base_permissions or []) else None
    return None


def test_reference_detector_flags_foreign_hosts():
    """The detector itself: it must catch every way a page can name another host."""
    page = """<html lang="zh-CN"><head>
      <link href="https://cdn.example.com/x.css" rel="stylesheet">
      <script src='//unpkg.example.org/lib.js'></script>
      <style>body { background: url( "http://img.example.net/bg.png" ) }</style>
      <style>@import 'https://fonts.example.com/css';</style>
    </head><body>
      <img srcset="/static/a.png 1x, https://img.example.net/b.png 2x">
      <form action=http://post.example.com/submit></form>
      <a href="/unitview/list/">ok</a><a href="?page=2">ok</a><a href="#top">ok</a>
      <a href="mailto:someone@example.com">ok</a><img src="data:image/png;base64,AAAA">
      <a href="&#47;&#47;entity.example.com/">entity-encoded</a>
      <script>el.src = "https://tracker.example.com/p.gif";</script>
    </body></html>"""
    refs = extract_references(page)
    offenders = sorted(r for r in refs if is_external(r))
    assert offenders == sorted([
        "https://cdn.example.com/x.css", "//unpkg.example.org/lib.js",
        "http://img.example.net/bg.png", "https://fonts.example.com/css",
        "https://img.example.net/b.png", "http://post.example.com/submit",
        "//entity.example.com/", "https://tracker.example.com/p.gif",
    ])
    for fine in ("/unitview/list/", "?page=2", "#top", "/static/a.png", "mailto:someone@example.com"):
        assert fine in refs and not is_external(fine)


def test_crawl_reaches_the_pages(app, crawl):
    """Nothing answers 5xx, and the admin is never refused a permission a view declares."""
    server_errors = [f"{p.label} GET {p.path} → {p.status}" for p in crawl if p.status >= 500]
    assert not server_errors, "pages answering a server error:\n" + "\n".join(server_errors)

    refused = []
    for p in crawl:
        if p.label != "admin" or p.status not in (401, 403):
            continue
        perm = _declared_permission(app, p.endpoint)
        if perm:
            refused.append(f"GET {p.path} ({p.endpoint}, needs {perm}) → {p.status}")
    assert not refused, (
        "the system administrator (AUTH_ROLE_ADMIN) is refused pages whose permission the view "
        "declares, so the crawl cannot check them:\n" + "\n".join(refused)
    )


def test_no_page_references_another_host(world, crawl):
    checked = [p for p in crawl if p.is_html_200]
    checked_paths = {p.path for p in checked}
    a = world.units["a"]
    must_check = {"/login/", f"/unitview/show/{a}", f"/unitview/edit/{a}", "/unitview/list/"}
    missing = sorted(must_check - checked_paths)
    assert not missing, (
        "these pages did not answer 200 text/html, so their references were not checked: "
        + ", ".join(f"{p.label} {p.path} → {p.status}" for p in crawl if p.path in missing)
    )
    # Every real page links at least its stylesheets: an empty list means the parser is broken.
    blind = [p.path for p in checked if not p.refs]
    assert not blind, f"no reference found at all on: {blind}"

    offenders = [f"{p.label} {p.path}: {ref}" for p in checked for ref in p.refs if is_external(ref)]
    assert not offenders, (
        f"{len(offenders)} reference(s) to another host (closed network):\n" + "\n".join(offenders)
    )


def test_every_page_is_chinese(crawl):
    checked = [p for p in crawl if p.is_html_200]
    assert checked
    wrong = []
    for p in checked:
        m = re.search(r"<html\b[^>]*>", p.text, re.IGNORECASE)
        if LANG_TAG not in p.text:
            wrong.append(f"{p.label} {p.path}: {m.group(0) if m else 'no <html> tag'}")
    assert not wrong, f'pages without {LANG_TAG}:\n' + "\n".join(wrong)
