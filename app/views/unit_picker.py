"""单位选择: the JSON behind every unit field's suggestions (app/static/jishi/unit_picker.js).

``/unitpicker/search?q=…`` answers the units whose name or code contains the text, among those the
user may see (app.scoping: the same scope as every list) — never a foreign unit. The field itself
stays a text field that takes a unit code.
"""
from __future__ import annotations

from flask import jsonify, request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access

from app.queries.units import search_units
from app.scoping import current_scope

LIMIT = 20


class UnitPickerView(BaseView):
    route_base = "/unitpicker"
    default_view = "search"

    @expose("/search")
    @has_access
    def search(self):
        units = search_units(request.args.get("q", ""), current_scope(), limit=LIMIT)
        return jsonify({"units": [{"code": u.code, "name": u.name} for u in units]})
