"""实时监控's table of units: units with red or yellow cases first (most red first), then the others
with cases; the units without a current case folded (counted in ``units_folded``) unless ``?all=1``,
which the page passes on to its refresh; nothing outside the scope reachable with it.

    组织部 (sup) ─┬─ A (no case)
                  ├─ B (one case, no light)
                  ├─ C (one red case)
                  └─ D (two red cases)
"""
from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from app.audit import acting_as
from app.extensions import db
from app.models import Case, Unit
from tests.factories import login, make_department, make_users, planted, save_case, unique

D = dt.date


@pytest.fixture(scope="module")
def org(app, world):
    sm = app.appbuilder.sm
    tag = unique("mf").lower()
    with app.app_context():
        with acting_as("测试夹具", "cli"):
            dept, units = make_department(db.session.get(Unit, world.units["root"]), tag, "监控组织部", {
                key: (f"监控{key.upper()}局", None, {}) for key in ("a", "b", "c", "d")})
            users = make_users(sm, tag, {"sup": ("msup", ["监督员"], dept),
                                         **{f"c{k}": (f"mc{k}", ["填报员"], units[k]) for k in "bcd"}})
            db.session.commit()
        made = {k: [save_case(units[k], users[f"c{k}"], D(2026, 2, 10 + i))[0].id for i in range(n)]
                for k, n in (("b", 1), ("c", 1), ("d", 2))}
        with acting_as("测试夹具", "cli"):
            for key, light in (("b", None), ("c", "红"), ("d", "红")):
                for cid in made[key]:
                    case = db.session.get(Case, cid)
                    case.light = light
                    planted(case.case_no)
            db.session.commit()
        return SimpleNamespace(dept=dept.id, ids={k: u.id for k, u in units.items()},
                               users={k: u.username for k, u in users.items()})


def test_problems_first_and_units_without_a_case_folded(app, org):
    sup = login(app.test_client(), org.users["sup"])
    data = sup.get("/monitor/data").get_json()
    ids = org.ids
    assert [r["unit_id"] for r in data["units"]] == [org.dept, ids["d"], ids["c"], ids["b"]]
    assert data["units_folded"] == 1 and data["units_total"]["total"] == 4
    html = sup.get("/monitor/").get_data(as_text=True)
    assert 'id="monitor-show-all"' in html and 'data-k="units_folded">1<' in html
    assert f'data-unit="{ids["a"]}"' not in html and 'data-url="/monitor/data"' in html

    every = sup.get("/monitor/data?all=1").get_json()
    assert [r["unit_id"] for r in every["units"]] == [org.dept, ids["d"], ids["c"], ids["b"], ids["a"]]
    assert every["units_folded"] == 0 and every["units_total"] == data["units_total"]
    html = sup.get("/monitor/?all=1").get_data(as_text=True)
    assert f'data-unit="{ids["a"]}"' in html and 'data-url="/monitor/data?all=1"' in html
    assert 'id="monitor-fold"' in html and '<p id="monitor-folded" hidden>' in html


def test_show_all_stays_in_the_scope(app, org, world):
    clerk = login(app.test_client(), org.users["cd"])
    assert clerk.get("/monitor/data?all=1").status_code in (302, 403)
    other = new_supervisor(app, world)
    theirs = other.get("/monitor/data?all=1").get_json()
    assert not {r["unit_id"] for r in theirs["units"]} & {org.dept, *org.ids.values()}
    assert theirs["units_total"]["total"] == theirs["cases"] == 0


def new_supervisor(app, world):
    """A supervisor of a fresh, empty 组织部."""
    tag = unique("mo").lower()
    with app.app_context():
        with acting_as("测试夹具", "cli"):
            dept, _units = make_department(db.session.get(Unit, world.units["root"]), tag, "空组织部",
                                           {"x": ("空局", None, {})})
            user = make_users(app.appbuilder.sm, tag, {"sup": ("esup", ["监督员"], dept)})["sup"]
            db.session.commit()
            name = user.username
    return login(app.test_client(), name)
