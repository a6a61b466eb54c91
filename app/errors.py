"""The one base of the app's refusals, and error pages in the user's language (JSON under /api/).

Every service refuses with a subclass of ``JishiError`` whose ``str()`` is a Chinese message fit to show
the user; the views turn an uncaught one into a 400 page or JSON, the CLI into a usage error (exit 1).
Anything else that escapes is a 500: a bug, not a refusal.
"""
from flask import g, jsonify, render_template, request
from flask_babel import lazy_gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import BadRequest, HTTPException


class JishiError(Exception):
    """A refused request: ``str(exc)`` says why, in Chinese. Subclasses add detail (problems per item)."""

    @property
    def message(self) -> str:
        return str(self) or "请求未被执行"


MESSAGES = {
    400: (_("请求有误"), _("提交的数据无法处理，请检查后重试。")),
    403: (_("无权访问"), _("您没有执行此操作的权限。")),
    404: (_("未找到"), _("该页面或记录不存在，或不在您的权限范围内。")),
    405: (_("不允许的操作"), _("该地址不支持此操作。")),
    413: (_("文件过大"), _("上传的文件超过了大小限制。")),
    429: (_("请求过于频繁"), _("请稍后再试。")),
    500: (_("系统错误"), _("系统出现错误，数据未被修改。请稍后重试或联系管理员。")),
}


def init_error_pages(app) -> None:
    def handle(exc):
        if "user" not in g:  # refused before FAB's before_request ran (e.g. a missing CSRF token)
            from flask_login import current_user

            g.user = current_user
        code = exc.code if isinstance(exc, HTTPException) and exc.code else 500
        title, message = MESSAGES.get(code, MESSAGES[500])
        if isinstance(exc, CSRFError):
            message = _("页面已过期或请求来源无法验证（安全令牌缺失或失效），数据未被修改。请刷新页面后重试。")
        elif isinstance(exc, HTTPException) and code == 400 and exc.description and not str(
            exc.description
        ).startswith("The browser"):
            message = exc.description
        if request.path.startswith("/api/"):
            return jsonify(message=str(message)), code
        return render_template(
            "jishi/error.html", code=code, title=title, message=message,
            appbuilder=app.appbuilder, base_template=app.appbuilder.base_template,
        ), code

    def refused(exc: JishiError):
        return handle(BadRequest(description=exc.message))

    for code in MESSAGES:
        app.register_error_handler(code, handle)
    app.register_error_handler(JishiError, refused)
