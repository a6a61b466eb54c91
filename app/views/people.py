"""人员档案 (/people/): a person's timeline across cases and 任免文件, by 身份证号, for supervisors.
Only the cases and documents of the user's units are shown; with none, nothing else is either."""
from __future__ import annotations

from flask import request
from flask_appbuilder import BaseView, expose
from flask_appbuilder.security.decorators import has_access, permission_name
from flask_babel import lazy_gettext as _

from app.queries.people import timeline
from app.scoping import current_scope
from app.supervision.reconcile import mask_id


class PersonView(BaseView):
    route_base = "/people"
    default_view = "index"

    @expose("/")
    @has_access
    @permission_name("timeline")
    def index(self):
        id_no = (request.args.get("id") or "").strip().upper()[:18]
        data = timeline(id_no, scope=current_scope()) if id_no else None
        if data is not None and not data["events"]:
            data = {"events": [], "linked_ids": [], "corrections": []}  # outside the scope: say nothing more
        return self.render_template("jishi/person_timeline.html", title=str(_("人员档案")), id_no=id_no, data=data,
                                    mask_id=mask_id)
