"""What every answer of the web app carries, and what a cookie-authenticated API write must show.

* REST writes (POST/PUT/PATCH/DELETE under /api/) sent with the session cookie need the CSRF token in
  an ``X-CSRFToken`` header and, when the browser names one, an Origin (or Referer) of this host: a
  page of another site can make the browser send the cookie, but neither the header nor the origin.
  Calls with ``Authorization: Bearer`` are exempt: no browser adds that header to a cross-site request.
* Security headers on every answer: a Content-Security-Policy that allows this host only (inline
  scripts and style elements need the page's nonce, FAB's ``baselib.get_nonce()``), no framing, no
  MIME sniffing, no referrer to other sites, and no caching of anything but static files.
"""
from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import Flask, current_app, g, jsonify, request
from flask_wtf.csrf import ValidationError, validate_csrf

UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Writes that use no identity from the cookie: the JWT login takes its credentials from the body and
# answers tokens that a foreign page cannot read.
COOKIELESS_WRITES = {"/api/v1/security/login"}


def init_web_security(app: Flask) -> None:
    app.before_request(guard_api_writes)
    app.after_request(security_headers)
    # FAB's templates (and ours) put nonce="{{ baselib.get_nonce() }}" on each script: it calls this.
    app.jinja_env.globals["csp_nonce"] = csp_nonce


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


# ---- cross-site API writes ---------------------------------------------------------------------

def guard_api_writes():
    if request.method not in UNSAFE_METHODS or not request.path.startswith("/api/"):
        return None
    if request.headers.get("Authorization", "").startswith("Bearer ") or request.path in COOKIELESS_WRITES:
        return None
    if not _cookie_sent():
        return None  # nothing a foreign page could borrow
    if not same_origin():
        return _refuse("请求来源不是本系统（跨站请求），已拒绝，数据未被修改")
    headers = current_app.config.get("WTF_CSRF_HEADERS") or ["X-CSRFToken", "X-CSRF-Token"]
    try:
        validate_csrf(next((request.headers[h] for h in headers if h in request.headers), None))
    except ValidationError:
        return _refuse("缺少或无效的安全令牌（请求头 X-CSRFToken），已拒绝，数据未被修改。请刷新页面后重试")
    return None


def _cookie_sent() -> bool:
    names = (current_app.config.get("SESSION_COOKIE_NAME", "session"),
             current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token"))
    return any(name in request.cookies for name in names)


def same_origin() -> bool:
    """The page that sent the request is this host (or a configured trusted origin). A browser names it
    in Origin, else in Referer; neither given (a script, not a browser) counts as same-origin, the
    token is still needed."""
    source = request.headers.get("Origin") or request.headers.get("Referer")
    if source is None:
        return True
    parts = urlsplit(source)
    if not parts.scheme or not parts.netloc:
        return False  # "null" (sandboxed frame, file://) or garbage
    if parts.netloc.lower() == request.host.lower():
        return True
    return f"{parts.scheme}://{parts.netloc}".lower() in current_app.config.get("JISHI_TRUSTED_ORIGINS", ())


def _refuse(message: str):
    return jsonify(message=message), 403


# ---- headers -----------------------------------------------------------------------------------

def content_security_policy(nonce: str | None) -> str:
    inline = f" 'nonce-{nonce}'" if nonce else ""
    return "; ".join((
        "default-src 'self'",
        f"script-src 'self'{inline}",
        f"style-src 'self'{inline}",
        # style="" attributes of FAB's templates and widgets: no script can run from one.
        "style-src-attr 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ))


def _is_static() -> bool:
    endpoint = request.endpoint or ""
    return endpoint == "static" or endpoint.endswith(".static")


def security_headers(response):
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(g.get("csp_nonce"))
    headers["X-Frame-Options"] = "DENY"
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    if not _is_static():
        # Pages, API answers and downloads hold unit data: no browser or proxy may keep a copy.
        headers["Cache-Control"] = "no-store"
        headers.pop("Expires", None)
    return response
