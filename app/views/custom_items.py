"""自定义数据项 (/customitems/): the custom items an admin may see (scope), and a form to add one through the
same command as `flask items add` (app/workflow/custom_items.py), and 停用/启用 through `set_active` (as
`flask items deactivate/activate`). Admins only (no other role holds its
permissions); refusals are flashed in Chinese, nothing written."""
from __future__ import annotations

from flask import flash, g, redirect, request, url_for
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import lazy_gettext as _

from app.extensions import db
from app.record.custom_items import KIND_LABELS, visible_definitions
from app.scoping import current_scope
from app.spec import MODULE_KEYS, module
from app.views.helpers import csrf_ok
from app.workflow.custom_items import CLOSED_MODULES, CustomItemRefused, add_item, set_active

FIELDS = ("module", "key", "label", "type", "required", "condition", "help_text", "effective_from", "region_code",
          "unit", "options")
REQUIRED_LABELS = {"N": "否", "Y": "是", "cond": "条件必填"}


class CustomItemView(BaseView):
    route_base = "/customitems"
    default_view = "index"
    base_permissions = ["can_list", "can_add", "can_edit"]

    def _page(self, form: dict, problems: list[str]):
        rows = visible_definitions(current_scope())
        modules = [(k, module(k).name) for k in MODULE_KEYS if k not in CLOSED_MODULES]
        return self.render_template("jishi/custom_items.html", title=str(_("自定义数据项")), rows=rows,
                                    modules=modules, module_name=lambda k: module(k).name, form=form,
                                    problems=problems, kinds=KIND_LABELS, required_labels=REQUIRED_LABELS)

    @expose("/")
    @has_access
    @permission_name("list")
    def index(self):
        return self._page({"required": "N"}, [])

    @expose("/add", methods=["POST"])
    @has_access
    @permission_name("add")
    def add(self):
        form = {k: (request.form.get(k) or "").strip() for k in FIELDS}
        if not csrf_ok():
            return self._page(form, [])
        # The page picks a kind from a list and types the choices apart; the command takes the exchange
        # format's spelling (enum[甲, 乙]). A type already spelled out (the API's way) is taken as it is.
        options = form.get("options", "")
        if form["type"] in ("enum", "enum*") and options:
            form["type"] = f"{form['type']}[{', '.join(o.strip() for o in options.replace('，', ',').split(',') if o.strip())}]"
        data = {k: v for k, v in form.items() if v and k != "options"}
        try:
            item = add_item(data, g.user)
        except CustomItemRefused as exc:
            db.session.rollback()
            flash(f"未添加：{len(exc.problems)} 处问题，未写入任何数据", "danger")
            return self._page(form, exc.problems)
        flash(f"已添加自定义数据项“{item.label}”（{item.module}.{item.key}），{item.effective_from} 起生效", "success")
        return redirect(url_for(".index"))

    @expose("/<key>/active", methods=["POST"])
    @has_access
    @permission_name("edit")
    def active(self, key: str):
        """停用 (active=0) or 启用 (active=1) an item; a refusal is flashed, nothing written."""
        wanted = request.form.get("active")
        if wanted not in ("0", "1"):
            flash("未更改：请求无效", "danger")
            return redirect(url_for(".index"))
        if not csrf_ok():  # it flashes its own message
            return redirect(url_for(".index"))
        try:
            item = set_active(key, wanted == "1", g.user)
        except CustomItemRefused as exc:
            db.session.rollback()
            flash(f"未更改：{'；'.join(exc.problems)}", "danger")
            return redirect(url_for(".index"))
        if item.active:
            flash(f"已启用自定义数据项“{item.label}”", "success")
        else:
            flash(f"已停用自定义数据项“{item.label}”：不再出现在新的填报中，已填的值照常保留和显示", "success")
        return redirect(url_for(".index"))
