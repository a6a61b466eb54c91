"""单位选择 (issue 14, Build 7): the suggestions behind every unit field are the user's scope only — a clerk
their unit, a supervisor their subtree, never a foreign unit — by name or by code; the field still takes a
typed code without the script."""
import re

from app.extensions import db
from app.models import Unit


def _codes(client, q) -> set[str]:
    resp = client.get("/unitpicker/search", query_string={"q": q})
    assert resp.status_code == 200, resp.status_code
    return {u["code"] for u in resp.get_json()["units"]}


def _world_codes(app, world) -> dict:
    with app.app_context():
        return {k: db.session.get(Unit, v).code for k, v in world.units.items()}


def test_suggestions_stay_within_the_scope(app, world, client_for):
    codes = _world_codes(app, world)
    tag = codes["root"].removesuffix("-ROOT")  # every world unit's name and code carry the tag
    assert _codes(client_for("admin"), tag) >= set(codes.values())
    assert _codes(client_for("sup_a"), tag) == {codes["a"], codes["a1"]}
    assert _codes(client_for("clerk_a"), tag) == {codes["a"]}
    assert _codes(client_for("clerk_b"), tag) == {codes["b"]}
    assert _codes(client_for("nounit"), tag) == set()
    # by name …
    assert _codes(client_for("sup_a"), world.names["a1"]) == {codes["a1"]}
    assert _codes(client_for("clerk_b"), world.names["a"]) == set()  # a foreign unit is never offered
    # … or by code; an empty or absurd query answers nothing, never everything
    assert _codes(client_for("sup_a"), codes["a1"]) == {codes["a1"]}
    assert _codes(client_for("admin"), "") == set()
    assert _codes(client_for("admin"), "%") == set() or all("%" in c for c in _codes(client_for("admin"), "%"))


def test_the_picker_needs_a_login(app):
    resp = app.test_client().get("/unitpicker/search?q=A")
    assert resp.status_code in (302, 401, 403)


def test_unit_fields_offer_the_picker_and_still_take_a_code(app, world, client_for):
    client = client_for("clerk_a")
    resp = client.post("/cases/new", data={"confirm": "1"})
    case_id = int(re.search(r"/cases/show/(\d+)", resp.headers["Location"]).group(1))
    html = client.get(f"/cases/show/{case_id}/module/motion").get_data(as_text=True)
    field = html.split('data-item="target_unit"')[1].split("</div>")[0]
    assert 'data-unit-picker="1"' in field and "名称或代码" in field
    assert re.search(r'<script src="/static/jishi/unit_picker.js" nonce="[^"]+">', html)
    script = client.get("/static/jishi/unit_picker.js")
    assert script.status_code == 200 and b"/unitpicker/search" in script.data
    for page in ("/statistics/", "/query/"):  # the statistics and query filters' unit fields
        resp = client_for("sup_a").get(page)
        assert resp.status_code == 200, page
        assert 'data-unit-picker="1"' in resp.get_data(as_text=True), page
