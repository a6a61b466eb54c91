"""Scoped base views: the only way a unit-owned model is exposed (see app.scoping).

FAB's ``base_filters`` scope list/show/edit/delete and REST list/get/put/delete, but not the
``action``/``action_post`` routes, not writes, not related-field dropdowns and not the
``download`` route (shared/notes/flask-appbuilder-5.md). The mixins below close each hole once.
"""
from __future__ import annotations

import io
import os
from datetime import datetime

from flask import abort, flash, g, redirect, request, send_file, url_for
from flask_appbuilder import ModelRestApi, ModelView, expose
from flask_appbuilder.actions import action
from flask_appbuilder.models.filters import BaseFilter
from flask_appbuilder.models.sqla.filters import get_field_setup_query
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_appbuilder.urltools import get_filter_args
from flask_babel import lazy_gettext as _
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import BadRequest

from app.extensions import db
from app.integrity import ValidationFailed
from app.models import Unit
from app.queries.history import record_history
from app.reporting.export_log import record_export, write_xlsx
from app.scoping import current_scope, scope_column
from app.views.openapi_fixes import fixed_spec_methods, use_utc_datetimes


def _value(item, column):
    """A list column's value: attribute, property or dotted relation."""
    value = item
    for part in column.split("."):
        value = getattr(value, part, None) if value is not None else None
    return value() if callable(value) else value


def _describe_filters(filters, labels) -> str:
    parts = [f"{labels.get(f.column_name, f.column_name)} {f.name} {v}" for f, v in filters.get_filters_values()]
    return "；".join(str(p) for p in parts) or "（无筛选）"


class FilterInScope(BaseFilter):
    """Base filter: the column holds a unit id the current user may see."""

    name = "在权限范围内"
    arg_name = "scope"

    def apply(self, query, value):
        query, field = get_field_setup_query(query, self.model, self.column_name)
        return query.filter(current_scope().clause(field))


class WriteRefused(BadRequest):
    """A refused write. FAB's ``@safe`` turns BadRequest into HTTP 400; forms flash str(e)."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__(description="；".join(self.errors))

    def __str__(self):
        return self.description


def _scoped_relations(datamodel) -> dict:
    """Related-field filters for every relation whose target is unit-owned."""
    rel = {}
    for name in datamodel.get_columns_list():
        if datamodel.is_relation(name):
            target = datamodel.get_related_model(name)
            col = scope_column(target)
            if col:
                rel[name] = [[col, FilterInScope, None]]
    return rel


def _set_owner(item, unit_id: int) -> None:
    """Point the row at its owning unit through the relationship if there is one (a relationship
    left pointing elsewhere would win over the column at flush time)."""
    for rel in sa_inspect(type(item)).relationships:
        if [c.key for c in rel.local_columns] == ["unit_id"]:
            setattr(item, rel.key, db.session.get(Unit, unit_id))
    item.unit_id = unit_id


class _ScopeCore:
    """What list views and REST APIs share."""

    #: May an all-scope user (admin) pick the owning unit in the form? Others never can.
    unit_selectable = False

    def _init_scope(self):
        model = self.datamodel.obj
        col = scope_column(model)
        if col is None:
            raise TypeError(f"{type(self).__name__}: {model.__name__} has no __scope_column__")
        self.base_filters = [[col, FilterInScope, None]] + list(self.base_filters or [])
        return _scoped_relations(self.datamodel)

    def check_write(self, item, is_add: bool) -> None:
        """Refuse a write that would place or point data outside the user's scope."""
        scope = current_scope()
        errors = []
        model = type(item)
        col = scope_column(model)
        with db.session.no_autoflush:
            if col == "unit_id":
                state = sa_inspect(item)
                if scope.kind != "all" or not self.unit_selectable:
                    if is_add:
                        # The owning unit is set by the server, never taken from the client.
                        own = getattr(g.user, "unit_id", None) if g.get("user") else None
                        if own is None:
                            errors.append("当前用户未归属任何单位，不能新增本类数据")
                        else:
                            _set_owner(item, own)
                    elif state.attrs.unit_id.history.has_changes() or (
                        "unit" in state.attrs and state.attrs.unit.history.has_changes()
                    ):
                        errors.append("不能变更数据的所属单位")
            # Every reference to a unit-owned row must point inside the scope.
            for rel in sa_inspect(model).relationships:
                target_col = scope_column(rel.mapper.class_)
                if not target_col:
                    continue
                value = getattr(item, rel.key)
                values = value if rel.uselist else [value]
                for v in values:
                    if v is not None and not scope.contains(getattr(v, target_col)):
                        errors.append(f"所选“{v}”不在您的权限范围内")
            if col == "id" and is_add and scope.kind != "all":
                parent = getattr(item, "parent", None)
                if parent is None:
                    errors.append("只有系统管理员可以新增顶级单位")
            check = getattr(item, "validate_write", None)
            if check is not None:
                errors += check()
        if errors:
            raise WriteRefused(errors)

    def pre_add(self, item):
        self.check_write(item, is_add=True)

    def pre_update(self, item):
        self.check_write(item, is_add=False)


MAX_PAGE_SIZE = 100


def paging_problem() -> str | None:
    """FAB turns ``page_<view>=abc`` into a 500 and passes a negative page or page size on to the
    database (PostgreSQL refuses a negative OFFSET); a huge page size would load everything."""
    for arg, value in request.args.items():
        if arg.startswith(("page_", "psize_")):
            try:
                n = int(value)
            except ValueError:
                return "分页参数无效，已显示第一页"
            if (arg.startswith("page_") and n < 0) or (arg.startswith("psize_") and not 1 <= n <= MAX_PAGE_SIZE):
                return f"分页参数无效（每页 1–{MAX_PAGE_SIZE} 条），已显示第一页"
    return None


class SafeListMixin:
    """The list route, refusing nonsense paging with a Chinese message instead of a server error."""

    @expose("/list/")
    @has_access
    def list(self):
        problem = paging_problem()
        if problem:
            flash(problem, "warning")
            return redirect(url_for(".list"))
        return super().list()


class ScopedViewMixin(SafeListMixin, _ScopeCore):
    """For ModelView subclasses (FAB's own user view included)."""

    def __init__(self, **kwargs):
        rel = self._init_scope()
        self.search_form_query_rel_fields = {**rel, **(self.search_form_query_rel_fields or {})}
        self.add_form_query_rel_fields = {**rel, **(self.add_form_query_rel_fields or {})}
        self.edit_form_query_rel_fields = {**rel, **(self.edit_form_query_rel_fields or {})}
        super().__init__(**kwargs)

    show_template = "jishi/show.html"
    list_template = "jishi/list.html"
    show_history = True

    def render_template(self, template, **kwargs):
        # Every record page shows its audit history (痕迹管理). The record itself was loaded
        # through the scoped filters, so its history is in scope too.
        if template == self.list_template and self.appbuilder.sm.has_access("can_export", self.class_permission_name):
            query = request.query_string.decode()
            kwargs["export_url"] = url_for(f"{type(self).__name__}.export") + (f"?{query}" if query else "")
        if self.show_history and template == self.show_template and "pk" in kwargs:
            table = self.datamodel.obj.__table__.name
            kwargs["history"] = record_history(table, kwargs["pk"])
            kwargs["history_labels"] = {k: str(v) for k, v in self.label_columns.items()}
        return super().render_template(template, **kwargs)

    # FAB's _add/_edit redirect away when pre_add/pre_update refuses, and the user's input is
    # lost. Ours re-render the form with what was typed and every problem, in one transaction.
    def _add(self):
        if request.method != "POST":
            return super()._add()
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        form = self.add_form.refresh()
        self._fill_form_exclude_cols(exclude_cols, form)
        if not form.validate():
            return self._get_add_widget(form=form, exclude_cols=exclude_cols)
        self.process_form(form, True)
        item = self.datamodel.obj()
        if not self._save(lambda: (form.populate_obj(item), self.pre_add(item)), item, is_add=True):
            return self._get_add_widget(form=form, exclude_cols=exclude_cols)
        self.post_add(item)
        return None

    def _edit(self, pk):
        if request.method != "POST":
            return super()._edit(pk)
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        exclude_cols = self._filters.get_relation_cols()
        item = self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters)
        if not item:
            abort(404)
        pk = self.datamodel.get_pk_value(item)
        form = self.edit_form.refresh(request.form)
        self._fill_form_exclude_cols(exclude_cols, form)
        form._id = pk
        if form.validate():
            self.process_form(form, False)
            if self._save(lambda: (form.populate_obj(item), self.pre_update(item)), item, is_add=False):
                self.post_update(item)
                return None
        widgets = self._get_edit_widget(form=form, exclude_cols=exclude_cols)
        widgets = self._get_related_views_widgets(item, filters={}, orders={}, pages={}, page_sizes={},
                                                  widgets=widgets)
        return widgets

    def _save(self, prepare, item, is_add: bool) -> bool:
        try:
            prepare()
            if is_add:
                db.session.add(item)
            db.session.commit()
        except (WriteRefused, ValidationFailed) as exc:
            db.session.rollback()
            for message in getattr(exc, "errors", [str(exc)]):
                flash(message, "danger")
            return False
        except SQLAlchemyError:
            db.session.rollback()
            flash(str(_("保存失败：数据与已有记录冲突或不完整，未保存任何内容")), "danger")
            return False
        flash(str(self.add_row_message if is_add else self.edit_row_message), "success")
        return True

    def _visible_or_404(self, pk):
        item = self.datamodel.get(self._deserialize_pk_if_composite(pk), self._base_filters)
        if item is None:
            abort(404)
        return item

    # FAB loads the rows of these two routes with no filter at all: re-expose them scoped.
    @expose("/action/<string:name>/<pk>", methods=["GET", "POST"])
    def action(self, name, pk):
        if name not in self.actions:
            abort(404)
        self._visible_or_404(pk)
        return super().action(name, pk)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        if request.form.get("action") not in self.actions:
            abort(404)
        pks = request.form.getlist("rowid")
        if not pks:
            flash("请至少选择一条记录", "warning")
            return redirect(self.get_redirect())
        for pk in pks:
            self._visible_or_404(pk)
        return super().action_post()

    # Export what the list shows — same scope, same filters, same order — as xlsx.
    @expose("/export.xlsx")
    @has_access
    def export(self):
        get_filter_args(self._filters, disallow_if_not_in_search=False)
        joined = self._filters.get_joined_filters(self._base_filters)
        order_column, order_direction = self.base_order or ("", "")
        query = self.datamodel.apply_all(db.session.query(self.datamodel.obj), joined,
                                         order_column, order_direction)
        columns = self.list_columns
        headers = [str(self.label_columns.get(c, c)) for c in columns]
        formatters = self.formatters_columns or {}

        def rows():
            for item in query.yield_per(1000):
                yield [formatters[c](_value(item, c)) if c in formatters else _value(item, c) for c in columns]

        user = g.user
        subtitle = f"制表：{user.username}（{getattr(user.unit, 'name', '全部单位')}）  {datetime.now():%Y-%m-%d %H:%M}"
        path, count = write_xlsx(str(self.list_title), subtitle, headers, rows())
        record_export(self.datamodel.obj.__tablename__, getattr(user, "unit_id", None),
                      _describe_filters(self._filters, self.label_columns), count)
        name = f"{self.datamodel.obj.__tablename__}-{datetime.now():%Y%m%d%H%M}.xlsx"
        # Read back and remove at once: no temporary file outlives the request.
        with open(path, "rb") as f:
            data = io.BytesIO(f.read())
        os.unlink(path)
        return send_file(data, as_attachment=True, download_name=name,
                         mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    # FAB serves any file of UPLOAD_FOLDER by name to anyone with can_download: never here.
    # Attachments are served by their own scoped route.
    @expose("/download/<string:filename>")
    def download(self, filename):
        abort(404)

    def pre_add(self, item):
        try:
            super().pre_add(item)
        except WriteRefused:
            raise
        except ValidationFailed as exc:
            raise WriteRefused(exc.errors) from None

    def pre_delete(self, item):
        # base_filters already refused a foreign row; deleting one's own stays a normal delete.
        pass


class ScopedModelView(ScopedViewMixin, ModelView):
    """Base class for every unit-owned ModelView."""

    page_size = 20

    @action("muldelete", _("删除"), _("确定删除所选记录吗？"), "fa-trash", single=False)
    def muldelete(self, items):
        """Delete the selected rows in one transaction: all or none."""
        items = items if isinstance(items, list) else [items]
        try:
            for item in items:
                self.pre_delete(item)
                db.session.delete(item)
            db.session.commit()
            flash(_("已删除 %(n)s 条记录", n=len(items)), "success")
        except Exception as exc:  # noqa: BLE001 - report, keep everything
            db.session.rollback()
            flash(str(exc) if isinstance(exc, WriteRefused) else _("删除失败，未删除任何记录"), "danger")
        return redirect(self.get_redirect())


class ScopedModelRestApi(_ScopeCore, ModelRestApi):
    """Base class for every unit-owned REST API."""

    allow_browser_login = True  # the pages' own scripts call the API with the session cookie

    def _get_field_info(self, field, *args, **kwargs):
        info = super()._get_field_info(field, *args, **kwargs)
        # FAB translates "" for a column without a description, and gettext("") is the catalogue's
        # header ("Project-Id-Version: …"), which _info then sent as every field's description.
        if not self.description_columns.get(field.name):
            info["description"] = ""
        return info

    @property
    def openapi_spec_methods(self):
        return fixed_spec_methods(type(self).__name__)

    def __init__(self, **kwargs):
        use_utc_datetimes()  # before FAB builds this API's schemas
        rel = self._init_scope()
        self.add_query_rel_fields = {**rel, **(self.add_query_rel_fields or {})}
        self.edit_query_rel_fields = {**rel, **(self.edit_query_rel_fields or {})}
        self.search_query_rel_fields = {**rel, **(getattr(self, "search_query_rel_fields", None) or {})}
        super().__init__(**kwargs)

    def pre_update(self, item):
        try:
            super().pre_update(item)
        except WriteRefused:
            # The schema already loaded the posted values into the instance: drop them.
            db.session.rollback()
            raise


class NoWritesMixin:
    """No add, edit, delete or bulk action through the app, whatever the role."""

    muldelete = None  # no bulk delete either

    # permission_name only labels the routes (templates ask "may I add?"); nobody holds it.
    @expose("/add", methods=["GET", "POST"])
    @permission_name("add")
    def add(self):
        abort(404)

    @expose("/edit/<pk>", methods=["GET", "POST"])
    @permission_name("edit")
    def edit(self, pk):
        abort(404)

    @expose("/delete/<pk>", methods=["GET", "POST"])
    @permission_name("delete")
    def delete(self, pk):
        abort(404)

    @expose("/action_post", methods=["POST"])
    def action_post(self):
        abort(404)


class ReadOnlyModelView(NoWritesMixin, ScopedModelView):
    """A scoped view whose rows can never be written through the app, whatever the role."""

    base_permissions = ["can_list", "can_show", "can_export"]


class ReadOnlyModelRestApi(ScopedModelRestApi):
    """A scoped REST API with reads only (POST, PUT and DELETE answer 405)."""

    include_route_methods = {"get", "get_list", "info"}
    base_permissions = ["can_get", "can_info"]
