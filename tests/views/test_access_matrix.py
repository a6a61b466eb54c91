"""The access matrix, generated from the app's registered views and APIs.

Every view or API over a unit-owned model (one with ``__scope_column__`` or a ``unit_id``
column) must use the scoping mechanism, and a user of the sibling unit B — even one whose role
holds every permission — must not reach unit A's rows through any route. A new unit-owned view
fails here until it is scoped and has a factory below.
"""
from __future__ import annotations

import pytest
from flask_appbuilder import ModelRestApi, ModelView
from sqlalchemy import func, select

from app.audit import acting_as
from app.extensions import db
from app.models import AppUser, AuditLog, Unit, UnitQuota
from app.scoping import scope_column
from app.views.base import ScopedModelRestApi, ScopedViewMixin
from tests.factories import unique


def _is_unit_owned(model) -> bool:
    return scope_column(model) is not None or "unit_id" in getattr(model, "__table__").c


def _registered(app, kind):
    out = []
    for view in app.appbuilder.baseviews:
        if isinstance(view, kind) and getattr(view, "datamodel", None) is not None:
            if _is_unit_owned(view.datamodel.obj):
                out.append(view)
    return out


# A record owned by unit A, for each unit-owned model: (pk, a string that must not leak).
def _foreign_unit(world):
    return world.units["a1"], world.names["a1"]


def _foreign_quota(world):
    q = db.session.execute(
        select(UnitQuota).where(UnitQuota.unit_id == world.units["a1"], UnitQuota.grade == "乡科级正职")
    ).scalar_one_or_none()
    if q is None:
        with acting_as("测试", "cli"):
            q = UnitQuota(unit_id=world.units["a1"], grade="乡科级正职", approved=7)
            db.session.add(q)
            db.session.commit()
    return q.id, None


def _foreign_audit(world):
    row = db.session.execute(
        select(AuditLog).where(AuditLog.unit_id == world.units["a1"]).order_by(AuditLog.id)
    ).scalars().first()
    return row.id, None


def _foreign_user(world):
    user = db.session.execute(select(AppUser).where(AppUser.username == world.users["clerk_a"])).scalar_one()
    return user.id, world.users["clerk_a"]


_CASE_CACHE = {}


def _foreign_case_objects(world):
    """A case of unit A1 with a batch, a person, a signature and a submission (rows made directly:
    the matrix tests scoping, not the workflow)."""
    from app.models import Batch, Case, CasePerson, Signature, Submission
    from app.workflow.cases import create_case

    cached = _CASE_CACHE.get(world.units["a1"])
    if cached and db.session.get(Case, cached["case"]) is not None:
        return cached
    unit = db.session.get(Unit, world.units["a1"])
    admin = db.session.execute(select(AppUser).where(AppUser.username == world.users["admin"])).scalar_one()
    with acting_as("测试", "cli"):
        case = create_case(unit)
        batch = Batch(unit_id=unit.id, title="甲下属会议批次" + world.names["a1"])
        case.batch = batch
        case.full_name = "甲下属案例人" + world.names["a1"]
        case.persons.append(CasePerson(unit_id=unit.id, item_key="nominee_list", position=0,
                                       name="甲下属被提名人" + world.names["a1"]))
        db.session.flush()
        sig = Signature(unit_id=unit.id, case_id=case.id, level=1, signer_id=admin.id, signer_name="甲签字人",
                        post="部长", opinion="情况属实同意报送", snapshot_sha256="0" * 64, record_sha256="0" * 64)
        sub = Submission(unit_id=unit.id, case_id=case.id, root_id=case.root_id, node=1,
                         submitted_by_name="甲提交人", snapshot="{}", sha256="0" * 64, content_sha256="0" * 64)
        db.session.add_all([sig, sub])
        db.session.commit()
        cached = {"case": case.id, "batch": batch.id, "person": case.persons[0].id, "signature": sig.id,
                  "submission": sub.id, "modules": {k: case.module_row(k).id for k in MODULE_MODELS}}
    _CASE_CACHE[world.units["a1"]] = cached
    return cached


def _case_factory(kind):
    def make(world):
        objs = _foreign_case_objects(world)
        leak = {"case": "甲下属案例人" + world.names["a1"], "batch": "甲下属会议批次" + world.names["a1"],
                "person": "甲下属被提名人" + world.names["a1"]}.get(kind)
        return objs[kind], leak
    return make


def _module_factory(key):
    def make(world):
        return _foreign_case_objects(world)["modules"][key], None
    return make


from app.models import (  # noqa: E402
    MODULE_MODELS, Alarm, Batch, Case, CasePerson, EvaluationRun, RuleSetting, Signature, Submission,
)


def _foreign_setting(world):
    import datetime as dt

    row = db.session.execute(select(RuleSetting).where(RuleSetting.unit_id == world.units["a1"])).scalars().first()
    if row is None:
        with acting_as("测试", "cli"):
            row = RuleSetting(code="C02", effective_from=dt.date(2020, 1, 1), enabled=True,
                              params={"min_vote_ratio": 0.6}, unit_id=world.units["a1"], note="甲下属设置" + world.names["a1"])
            db.session.add(row)
            db.session.commit()
    return row.id, "甲下属设置" + world.names["a1"]


def _foreign_alarm(world):
    objs = _foreign_case_objects(world)
    existing = db.session.execute(select(Alarm).where(Alarm.case_id == objs["case"])).scalars().first()
    if existing is None:
        import datetime as dt

        with acting_as("测试", "cli"):
            run = EvaluationRun(case_id=objs["case"], unit_id=world.units["a1"], point="S1", as_of=dt.date.today(),
                                judged_on=dt.date.today(), light="红", red=1)
            db.session.add(run)
            db.session.flush()
            existing = Alarm(case_id=objs["case"], root_id=objs["case"], unit_id=world.units["a1"], run_id=run.id,
                             point="S1", codes="P27", message="甲下属报警" + world.names["a1"])
            db.session.add(existing)
            db.session.commit()
    return existing.id, "甲下属案例人" + world.names["a1"]  # the case, as the list shows it


def _foreign_deadline(world):
    """A reported (on-time) node of the matrix case: the deadline scan leaves it alone."""
    import datetime as dt

    objs = _foreign_case_objects(world)
    row = db.session.execute(select(CaseDeadline).where(CaseDeadline.root_id == objs["case"])).scalars().first()
    if row is None:
        with acting_as("测试", "cli"):
            row = CaseDeadline(root_id=objs["case"], case_id=objs["case"], unit_id=world.units["a1"], node=1,
                               anchor_date=dt.date(2026, 1, 5), days=7, day_type="calendar",
                               due_date=dt.date(2026, 1, 12), status="按时", submitted_on=dt.date(2026, 1, 9),
                               days_late=0)
            db.session.add(row)
            db.session.commit()
    return row.id, "甲下属案例人" + world.names["a1"]  # the case's name, as the list shows it


def _foreign_message(world):
    """A notice about unit A1 addressed to the root supervisor (who may read it; B's users may not)."""
    objs = _foreign_case_objects(world)
    title = "甲下属消息" + world.names["a1"]
    row = db.session.execute(select(Message).where(Message.title == title)).scalars().first()
    if row is None:
        recipient = db.session.execute(
            select(AppUser).where(AppUser.username == world.users["sup_root"])).scalar_one()
        with acting_as("测试", "cli"):
            row = Message(recipient_id=recipient.id, unit_id=world.units["a1"], kind="逾期通知", title=title,
                          body="甲下属消息正文", link=f"/cases/show/{objs['case']}", case_id=objs["case"],
                          dedup_key=unique("matrix:"))
            db.session.add(row)
            db.session.commit()
    return row.id, title


def _foreign_report(world):
    """A statistics workbook of unit A1 (the row only: the matrix tests scoping, not the file)."""
    import datetime as dt

    name = "甲下属报表" + world.names["a1"] + ".xlsx"
    row = db.session.execute(select(ReportFile).where(ReportFile.filename == name)).scalars().first()
    if row is None:
        with acting_as("测试", "cli"):
            row = ReportFile(kind="monthly", period_start=dt.date(2001, 1, 1), period_end=dt.date(2001, 1, 31),
                             unit_id=world.units["a1"], filename=name, storage_key=unique("k").lower(), size=1,
                             sha256="0" * 64)
            db.session.add(row)
            db.session.commit()
    return row.id, name


from app.models import CaseDeadline, Message  # noqa: E402
from app.models import ReportFile  # noqa: E402

FACTORIES = {Unit: _foreign_unit, UnitQuota: _foreign_quota, AuditLog: _foreign_audit, AppUser: _foreign_user,
             Case: _case_factory("case"), Batch: _case_factory("batch"), CasePerson: _case_factory("person"),
             Signature: _case_factory("signature"), Submission: _case_factory("submission"), Alarm: _foreign_alarm,
             RuleSetting: _foreign_setting, CaseDeadline: _foreign_deadline, Message: _foreign_message,
             ReportFile: _foreign_report,
             **{model: _module_factory(key) for key, model in MODULE_MODELS.items()}}


def _foreign_document(world):
    """An imported 任免文件 of unit A1 (应报未报)."""
    import datetime as dt

    from app.models import AppointmentDocument

    name = "甲下属文件人" + world.names["a1"][-6:]
    row = db.session.execute(select(AppointmentDocument).where(AppointmentDocument.person_name == name)).scalars().first()
    if row is None:
        with acting_as("测试", "cli"):
            row = AppointmentDocument(doc_no="甲组任〔2026〕1号", doc_date=dt.date(2026, 1, 5), unit_id=world.units["a1"],
                                      person_name=name, post="甲下属职务", imported_by_name="测试")
            db.session.add(row)
            db.session.commit()
    return row.id, name


from app.models import AppointmentDocument  # noqa: E402

FACTORIES[AppointmentDocument] = _foreign_document


def _patrol_admin_id(world):
    return db.session.execute(select(AppUser.id).where(AppUser.username == world.users["admin"])).scalar_one()


def _once(model, where, build) -> int:
    """The id of the matrix's ``model`` row ``where`` finds; the first time, ``build()``'s rows are added (the
    first is that row)."""
    row = db.session.execute(select(model).where(where)).scalars().first()
    if row is None:
        with acting_as("测试", "cli"):
            rows = build()
            db.session.add_all(rows)
            db.session.commit()
        return rows[0].id
    return row.id


def _foreign_review(world):
    """A review of the matrix case (网上巡查), made directly: the matrix tests scoping, not the service."""
    from app.models import Review

    objs = _foreign_case_objects(world)
    reason = "甲下属巡查意见" + world.names["a1"]
    return _once(Review, Review.reason == reason, lambda: [
        Review(case_id=objs["case"], root_id=objs["case"], unit_id=world.units["a1"], result="黄灯提示",
               reason=reason, reviewer_id=_patrol_admin_id(world), reviewer_name="甲巡查人")]), reason


def _foreign_spot_check(world):
    """A spot check of unit A1 drawing the matrix case."""
    from app.models import SpotCheck, SpotCheckItem

    objs = _foreign_case_objects(world)
    title = "甲下属抽查" + world.names["a1"]

    def build():
        check = SpotCheck(unit_id=world.units["a1"], title=title, seed="matrix", method="count", count=1,
                          population=1, created_by_name="测试")
        return [check, SpotCheckItem(spot_check=check, case_id=objs["case"], root_id=objs["case"],
                                     unit_id=world.units["a1"], position=1)]

    return _once(SpotCheck, SpotCheck.title == title, build), title


def _foreign_finding(world):
    """A finding on the matrix case, open."""
    import datetime as dt

    from app.models import Finding

    objs = _foreign_case_objects(world)
    text = "甲下属问题" + world.names["a1"]
    return _once(Finding, Finding.description == text, lambda: [
        Finding(case_id=objs["case"], root_id=objs["case"], unit_id=world.units["a1"], rule_codes="P27",
                description=text, correction_deadline=dt.date(2026, 1, 31), created_by_name="测试")]), text


from app.models import Finding, Review, SpotCheck  # noqa: E402

FACTORIES.update({Review: _foreign_review, SpotCheck: _foreign_spot_check, Finding: _foreign_finding})


def _foreign_notice(world):
    """An issued 通报 of unit A1 (content drafted from its data; the row made directly)."""
    import datetime as dt

    from app.models import Notice
    from app.models.audit import utcnow
    from app.supervision.notices.content import compose

    title = "甲下属通报" + world.names["a1"]
    row = db.session.execute(select(Notice).where(Notice.title == title)).scalars().first()
    if row is None:
        unit = db.session.get(Unit, world.units["a1"])
        with acting_as("测试", "cli"):
            row = Notice(unit_id=unit.id, number="甲下属通〔2026〕1号", title=title, period_from=dt.date(2026, 1, 1),
                         period_to=dt.date(2026, 3, 31), status="已印发",
                         content=compose(unit, dt.date(2026, 1, 1), dt.date(2026, 3, 31)),
                         created_by_name="测试", issued_at=utcnow(), issued_by_name="测试")
            db.session.add(row)
            db.session.commit()
    return row.id, title


from app.models import Notice  # noqa: E402

FACTORIES[Notice] = _foreign_notice


def test_every_unit_owned_view_is_scoped(app):
    views = _registered(app, ModelView)
    apis = _registered(app, ModelRestApi)
    assert views and apis
    unscoped = [type(v).__name__ for v in views if not isinstance(v, ScopedViewMixin)]
    unscoped += [type(a).__name__ for a in apis if not isinstance(a, ScopedModelRestApi)]
    assert unscoped == [], f"unit-owned views without scoping: {unscoped}"
    missing = {v.datamodel.obj.__name__ for v in views + apis} - {m.__name__ for m in FACTORIES}
    assert missing == set(), f"add a foreign-record factory to the access matrix for {missing}"


def test_every_unit_owned_model_declares_its_scope_column(app):
    from flask_appbuilder import Model

    for mapper in Model.registry.mappers:
        model = mapper.class_
        if "unit_id" in mapper.columns and not mapper.class_.__name__.startswith("_"):
            assert scope_column(model), f"{model.__name__} has unit_id but no __scope_column__"


def pytest_generate_tests(metafunc):
    if "view_name" in metafunc.fixturenames or "api_name" in metafunc.fixturenames:
        # Generated from the registered views of a throw-away app (same classes as the fixture's).
        from app.views import audit, case_api, cases, notifications, reports, rules, units  # noqa: F401
        import app.security  # noqa: F401

        views = [c for c in _all_subclasses(ScopedViewMixin) if getattr(c, "datamodel", None) is not None]
        apis = [c for c in _all_subclasses(ScopedModelRestApi) if getattr(c, "datamodel", None) is not None]
        if "view_name" in metafunc.fixturenames:
            metafunc.parametrize("view_name", sorted({c.__name__ for c in views}))
        if "api_name" in metafunc.fixturenames:
            metafunc.parametrize("api_name", sorted({c.__name__ for c in apis}))


def _all_subclasses(cls):
    out = set()
    for sub in cls.__subclasses__():
        out.add(sub)
        out |= _all_subclasses(sub)
    return out


def _view(app, name):
    for v in app.appbuilder.baseviews:
        if type(v).__name__ == name:
            return v
    pytest.fail(f"{name} is not registered in the app")


def _foreign(app, world, model):
    with app.app_context():
        return FACTORIES[model](world)


def _count(app, model, pk):
    with app.app_context():
        return db.session.execute(select(func.count()).select_from(model).where(model.id == pk)).scalar()


def test_view_matrix(app, world, client_for, view_name):
    view = _view(app, view_name)
    model = view.datamodel.obj
    pk, leak = _foreign(app, world, model)
    base = view.route_base
    client = client_for("all_b")  # every permission, but unit B only
    foreign_names = [world.names["a"], world.names["a1"]] + ([leak] if leak else [])

    # show / edit / delete answer 404 for the foreign row (403 where the view offers no such route)
    def refused(resp, perm):
        allowed = (404,) if perm in view.base_permissions else (403, 404)
        return resp.status_code in allowed

    assert client.get(f"{base}/show/{pk}").status_code == 404
    assert refused(client.get(f"{base}/edit/{pk}"), "can_edit")
    assert refused(client.post(f"{base}/edit/{pk}", data={}), "can_edit")
    assert refused(client.post(f"{base}/delete/{pk}"), "can_delete")
    assert _count(app, model, pk) == 1
    # actions, single and multiple (FAB's unscoped routes)
    for name in view.actions:
        resp = client.post(f"{base}/action/{name}/{pk}")
        assert resp.status_code == 404, (name, resp.status_code)
        resp = client.post(f"{base}/action_post", data={"action": name, "rowid": [pk]})
        assert resp.status_code == 404, (name, resp.status_code)
    resp = client.post(f"{base}/action_post", data={"action": "muldelete", "rowid": [pk]})
    assert resp.status_code == 404
    assert _count(app, model, pk) == 1
    # FAB's unscoped file route is closed
    assert client.get(f"{base}/download/anything.txt").status_code == 404
    # list, search form, add form: no foreign row, no foreign unit in any dropdown
    pages = [f"{base}/list/", f"{base}/list/?_flt_0_id={pk}", f"{base}/add"]
    for page in pages:
        resp = client.get(page)
        html = resp.get_data(as_text=True)
        for name in foreign_names:
            assert name not in html, f"{page} leaks {name!r}"
    # the supervisor of the root sees the same row (where supervisors may open this view at all)
    sup = client_for("sup_root")
    if [type(view).__name__, "can_show"] in app.config["FAB_ROLES"]["监督员"]:
        assert sup.get(f"{base}/show/{pk}").status_code == 200


def test_api_matrix(app, world, client_for, api_name):
    api = _view(app, api_name)
    model = api.datamodel.obj
    pk, leak = _foreign(app, world, model)
    base = f"/api/v1/{api.resource_name}"
    client = client_for("all_b")
    assert client.get(f"{base}/{pk}").status_code == 404
    listed = client.get(f"{base}/?q=(page_size:100)").get_json()
    assert pk not in listed["ids"]
    assert client.put(f"{base}/{pk}", json={}).status_code in (404, 405)
    assert client.delete(f"{base}/{pk}").status_code in (404, 405)
    assert _count(app, model, pk) == 1
    info = client.get(f"{base}/_info?q=(keys:!(add_columns,edit_columns))")
    if info.status_code == 200:
        text = info.get_data(as_text=True)
        for name in (world.names["a"], world.names["a1"]):
            assert name not in text
    # posting an owner is refused: the server sets the unit
    resp = client.post(f"{base}/", json={"unit_id": world.units["a"]})
    assert resp.status_code in (400, 405, 422)


def test_supervisor_sees_exactly_its_subtree(app, world, client_for):
    with app.app_context():
        root_path = db.session.get(Unit, world.units["a"]).path
        expected = set(db.session.execute(select(Unit.id).where(Unit.path.startswith(root_path))).scalars())
    assert {world.units["a"], world.units["a1"]} <= expected  # (and what other tests imported below A)
    for key in ("sup_a", "query_a"):
        got = client_for(key).get("/api/v1/unit/?q=(page_size:100)").get_json()
        assert set(got["ids"]) == expected, key
    clerk = client_for("clerk_a").get("/api/v1/unit/?q=(page_size:100)").get_json()
    assert set(clerk["ids"]) == {world.units["a"]}
    # the root supervisor sees the whole world tree, the admin everything
    root = client_for("sup_root").get("/api/v1/unit/?q=(page_size:100)").get_json()
    assert set(world.units.values()) <= set(root["ids"])
    # a non-admin user without a unit sees nothing (never "everything by accident")
    nothing = client_for("nounit").get("/api/v1/unit/?q=(page_size:100)").get_json()
    assert nothing["ids"] == [] and nothing["count"] == 0


def test_quota_create_takes_the_unit_from_the_server(app, world, client_for):
    client = client_for("all_b")
    resp = client.post("/api/v1/unit_quota/", json={"grade": "厅局级副职", "approved": 2})
    assert resp.status_code == 201, resp.get_json()
    new_id = resp.get_json()["id"]
    with app.app_context():
        assert db.session.get(UnitQuota, new_id).unit_id == world.units["b"]
    # through the form a foreign unit is not even a valid choice (the picker is scoped) ...
    resp = client.post("/unitquotaview/add", data={"unit": str(world.units["a"]), "grade": "厅局级正职",
                                                    "approved": "1"})
    assert resp.status_code == 200
    with app.app_context():
        assert db.session.execute(select(UnitQuota).where(
            UnitQuota.unit_id == world.units["a"], UnitQuota.grade == "厅局级正职")).first() is None
    # ... and whatever is posted, a non-admin's row belongs to its own unit
    resp = client.post("/unitquotaview/add", data={"unit": str(world.units["b"]), "grade": "厅局级正职",
                                                    "approved": "1"})
    assert resp.status_code == 302
    with app.app_context():
        row = db.session.execute(
            select(UnitQuota).where(UnitQuota.grade == "厅局级正职", UnitQuota.approved == 1)
            .order_by(UnitQuota.id.desc())
        ).scalars().first()
        assert row is not None and row.unit_id == world.units["b"]


def test_unit_create_under_a_foreign_parent_is_refused(app, world, client_for):
    client = client_for("all_b")
    code = unique("X")
    data = {"code": code, "name": "越权单位" + code, "parent": world.units["a"], "level": "委办局",
            "unit_type": "政府", "max_grade": "县处级副职", "authority": "科级任免权", "dual_managed": False}
    resp = client.post("/api/v1/unit/", json=data)
    assert resp.status_code == 400, resp.get_json()
    assert "权限范围" in resp.get_json()["message"]
    resp = client.post("/unitview/add", data={**data, "dual_managed": ""})
    with app.app_context():
        assert db.session.execute(select(Unit).where(Unit.code == code)).first() is None
    # under its own unit it works, and the path hangs below B
    ok = client.post("/api/v1/unit/", json={**data, "parent": world.units["b"]})
    assert ok.status_code == 201, ok.get_json()
    with app.app_context():
        unit = db.session.execute(select(Unit).where(Unit.code == code)).scalar_one()
        parent = db.session.get(Unit, world.units["b"])
        assert unit.path == parent.path + code + "/"


def test_moving_a_unit_out_of_scope_is_refused(app, world, client_for):
    client = client_for("all_a")
    resp = client.put(f"/api/v1/unit/{world.units['a1']}", json={"parent": world.units["b"]})
    assert resp.status_code == 400
    with app.app_context():
        assert db.session.get(Unit, world.units["a1"]).parent_id == world.units["a"]


def test_fab_holes_regression(app, world, client_for):
    """The holes listed in shared/notes/flask-appbuilder-5.md, one by one."""
    client = client_for("all_b")
    # 1. muldelete through action_post of a foreign row
    with app.app_context():
        q = UnitQuota(unit_id=world.units["a"], grade="厅局级正职", approved=9)
        with acting_as("测试", "cli"):
            db.session.add(q)
            db.session.commit()
        qid = q.id
    assert client.post("/unitquotaview/action_post", data={"action": "muldelete", "rowid": [qid]}).status_code == 404
    # mixing an own row with a foreign one refuses the whole request
    own = client.post("/api/v1/unit_quota/", json={"grade": "乡科级副职", "approved": 1}).get_json()["id"]
    resp = client.post("/unitquotaview/action_post", data={"action": "muldelete", "rowid": [own, qid]})
    assert resp.status_code == 404
    assert _count(app, UnitQuota, qid) == 1 and _count(app, UnitQuota, own) == 1
    # 2. a write with a posted unit_id answers 422 (unknown field), never moves data
    assert client.post("/api/v1/unit_quota/", json={"grade": "乡科级副职", "approved": 1,
                                                    "unit_id": world.units["a"]}).status_code == 422
    assert client.put(f"/api/v1/unit_quota/{own}", json={"unit_id": world.units["a"]}).status_code == 422
    # 3. dropdowns: the user admin's unit picker and the unit parent picker hold only B's units
    for page in ("/unitview/add", "/unitquotaview/add", "/unitquotaview/list/", "/unitview/list/"):
        html = client.get(page).get_data(as_text=True)
        assert world.names["b"] in html or page.endswith("list/")
        assert world.names["a"] not in html, page
    # 4. a user with no unit sees nothing rather than everything
    html = client_for("nounit").get("/unitview/list/").get_data(as_text=True)
    assert world.names["a"] not in html and world.names["b"] not in html
    # 5. own-row muldelete still works
    resp = client.post("/unitquotaview/action_post", data={"action": "muldelete", "rowid": [own]})
    assert resp.status_code == 302
    assert _count(app, UnitQuota, own) == 0


def test_default_deny_for_roles(app, world, client_for):
    clerk = client_for("clerk_a")
    # a clerk may read its unit but not write units, quotas, users or read the audit trail
    assert clerk.get(f"/unitview/show/{world.units['a']}").status_code == 200
    for url in ("/unitview/add", f"/unitview/edit/{world.units['a']}", "/unitquotaview/add",
                "/users/list/", "/auditlogview/list/", "/unitimportview/form", "/roles/list/"):
        resp = clerk.get(url)
        assert resp.status_code in (302, 403, 404), url
        assert resp.status_code != 200
    assert clerk.post("/api/v1/unit/", json={"code": unique("Z")}).status_code in (401, 403)
    assert clerk.get("/api/v1/audit_log/").status_code in (401, 403)
    # the audit trail has no write route for anyone, the admin included
    admin = client_for("admin")
    with app.app_context():
        row_id = db.session.execute(select(func.max(AuditLog.id))).scalar()
    assert admin.get(f"/auditlogview/edit/{row_id}").status_code == 404
    assert admin.post(f"/auditlogview/delete/{row_id}").status_code == 404
    assert admin.get("/auditlogview/add").status_code == 404
    assert admin.delete(f"/api/v1/audit_log/{row_id}").status_code == 405
    assert admin.put(f"/api/v1/audit_log/{row_id}", json={"new_value": "x"}).status_code == 405
    assert _count(app, AuditLog, row_id) == 1


def _xlsx_text(data: bytes) -> str:
    import io

    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True)
    return "\n".join(str(c) for row in wb.active.iter_rows(values_only=True) for c in row if c is not None)


def test_export_matrix(app, world, client_for, view_name):
    """Every list exports to xlsx with the user's scope: no foreign row in the file."""
    view = _view(app, view_name)
    pk, leak = _foreign(app, world, view.datamodel.obj)
    resp = client_for("all_b").get(f"{view.route_base}/export.xlsx")
    assert resp.status_code == 200
    text = _xlsx_text(resp.data)
    for name in [world.names["a"], world.names["a1"]] + ([leak] if leak else []):
        assert name not in text, f"{view_name} export leaks {name!r}"
    # the supervisor of the root exports its subtree, the foreign row included
    if leak and [view_name, "can_export"] in app.config["FAB_ROLES"]["监督员"]:
        sup = client_for("sup_root").get(f"{view.route_base}/export.xlsx")
        assert sup.status_code == 200
        assert leak in _xlsx_text(sup.data)


def test_export_follows_the_list_filters_and_is_audited(app, world, client_for):
    client = client_for("sup_root")
    resp = client.get(f"/unitview/export.xlsx?_flt_0_code={world.names['a'][3:]}-A")
    text = _xlsx_text(resp.data)
    assert world.names["a"] in text and world.names["b"] not in text
    assert "单位列表" in text and "单位代码" in text  # title and Chinese headers
    with app.app_context():
        row = db.session.execute(select(AuditLog).where(AuditLog.action == "export")
                                 .order_by(AuditLog.id.desc())).scalars().first()
        assert row.actor_name == world.users["sup_root"] and row.table_name == "unit"
    # the list page offers the export link with the same filters
    html = client.get("/unitview/list/?_flt_0_code=X").get_data(as_text=True)
    assert 'id="export-xlsx"' in html and "export.xlsx?_flt_0_code=X" in html


def test_case_command_routes_are_scoped(app, world, client_for):
    """The guided-step routes and API commands load the case through the scope too."""
    with app.app_context():
        objs = _foreign_case_objects(world)
        from app.models import Attachment

        with acting_as("测试", "cli"):
            att = Attachment(unit_id=world.units["a1"], case_id=objs["case"], item_key="work_plan_file",
                             filename="甲方案.pdf", size=4, sha256="0" * 64, storage_key=unique("k"))
            db.session.add(att)
            db.session.commit()
        att_id = att.id
    pk = objs["case"]
    client = client_for("all_b")
    for method, url in [
        ("get", f"/cases/show/{pk}/module/motion"), ("post", f"/cases/show/{pk}/module/motion"),
        ("post", f"/cases/show/{pk}/sign"), ("post", f"/cases/show/{pk}/pledge"),
        ("post", f"/cases/show/{pk}/submit/1"), ("post", f"/cases/show/{pk}/return"),
        ("get", f"/cases/show/{pk}/diff/{pk}"), ("get", f"/cases/attachment/{att_id}"),
        ("get", f"/api/v1/case/{pk}/export"), ("put", f"/api/v1/case/{pk}/module/motion"),
        ("post", f"/api/v1/case/{pk}/module/motion/complete"), ("post", f"/api/v1/case/{pk}/sign"),
        ("post", f"/api/v1/case/{pk}/submit/1"), ("post", f"/api/v1/case/{pk}/return"),
    ]:
        kwargs = {"json": {"reason": "x", "level": 1}} if url.startswith("/api/") else {"data": {"reason": "x"}}
        resp = getattr(client, method)(url, **kwargs)
        assert resp.status_code == 404, (method, url, resp.status_code)
    # the same routes are reachable for the case's own unit (a supervisor above it can read it)
    assert client_for("sup_root").get(f"/cases/show/{pk}").status_code == 200
    assert client_for("sup_root").get(f"/api/v1/case/{pk}/export").status_code == 200
