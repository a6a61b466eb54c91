"""条件查询 on custom items (自定义数据项): a filter on one item's value (parameters ``ci``/``cv``), typed by
its kind, only on items the user's scope may see, answered from the (item_id, value_*) index on both
databases; the query export carries the items as extra columns."""
from __future__ import annotations

import datetime as dt
import io
from urllib.parse import urlencode

from openpyxl import load_workbook
from sqlalchemy import func, text

from app.audit import acting_as
from app.extensions import db
from app.models import Case
from app.queries.cases import case_select
from app.reporting.exports import parse_filter
from app.scoping import Scope, scope_for
from app.workflow import cases
from tests.factories import case_values, custom_item, login, office_ids, office_in, record_case, user_named


def _office_with_values(app, world, prefix):
    ids = office_ids(app, world, prefix)
    with app.app_context():
        o = office_in(ids)
        admin = user_named(world.users["admin"])
        how = custom_item(admin, o.unit, type="enum[集体谈话, 个别谈话]", label="廉政谈话方式")
        when = custom_item(admin, o.unit, type="date", label="任前廉政谈话日期")
        done = custom_item(admin, o.unit, type="bool", label="是否经过任前廉政谈话")
        made = []
        for how_value, day, flag in (("个别谈话", dt.date(2026, 2, 27), True), ("集体谈话", dt.date(2026, 3, 1), True),
                                     (None, None, False)):
            case = record_case(o.unit, o.clerk, case_values(o.unit), keys=("qualification",), complete=False)
            with acting_as(o.clerk, "cli"):
                cases.save_module(case, "qualification", {how["key"]: how_value, when["key"]: day, done["key"]: flag})
            made.append(case.id)
    return ids, how, when, done, made


def test_filter_on_a_custom_item_counts_the_matching_cases(app, world):
    ids, how, when, done, made = _office_with_values(app, world, "ciq")
    with app.app_context():
        scope = scope_for(user_named(ids.sup))
        for args, expected in (({"ci": how["key"], "cv": "个别谈话"}, [made[0]]),
                               ({"ci": when["key"], "cv": "2026-03-01"}, [made[1]]),
                               ({"ci": done["key"], "cv": "是"}, made[:2]),
                               ({"ci": done["key"], "cv": "否"}, [made[2]])):
            pq = parse_filter({**args, "unit": ids.dept_code}, scope)
            assert pq.ok, pq.errors
            found = db.session.execute(case_select(pq.filter, scope, columns=[Case.id])).scalars().all()
            assert sorted(found) == sorted(expected), args
            assert pq.params()["ci"] == args["ci"] and pq.params()["cv"] == args["cv"]  # a saved query keeps it
        # bad values: Chinese, per kind
        for args, message in (({"ci": how["key"], "cv": "电话谈话"}, "“廉政谈话方式”的取值无效"),
                              ({"ci": when["key"], "cv": "3月1日"}, "“任前廉政谈话日期”不是有效日期"),
                              ({"ci": done["key"], "cv": "也许"}, "应为“是”或“否”"),
                              ({"ci": done["key"]}, "请填写“是否经过任前廉政谈话”的查询值"),
                              ({"ci": "no_such_item", "cv": "x"}, "自定义数据项“no_such_item”不存在或不在您的权限范围内")):
            pq = parse_filter(args, scope)
            assert any(message in e for e in pq.errors), (args, pq.errors)


def test_a_number_or_a_date_custom_item_is_queried_by_range(app, world):
    """起~止 on a date or an integer item (either end may be left out); a range on any other kind, a
    reversed or an empty range is refused in Chinese."""
    ids, how, when, done, made = _office_with_values(app, world, "cir")
    with app.app_context():
        o = office_in(ids)
        minutes = custom_item(user_named(world.users["admin"]), o.unit, type="int", label="谈话时长分钟")
        with acting_as(o.clerk, "cli"):
            for case_id, value in zip(made, (30, 45, 90)):
                cases.save_module(db.session.get(Case, case_id), "qualification", {minutes["key"]: value})
        scope = scope_for(user_named(ids.sup))
        for args, expected in (({"ci": when["key"], "cv": "2026-02-01~2026-02-28"}, [made[0]]),
                               ({"ci": when["key"], "cv": "2026-02-27~2026-03-01"}, made[:2]),
                               ({"ci": when["key"], "cv": "2026-02-28至"}, [made[1]]),
                               ({"ci": when["key"], "cv": "～2026-02-27"}, [made[0]]),
                               ({"ci": minutes["key"], "cv": "40~90"}, made[1:]),
                               ({"ci": minutes["key"], "cv": "~30"}, [made[0]]),
                               ({"ci": minutes["key"], "cv": "45"}, [made[1]])):
            pq = parse_filter({**args, "unit": ids.dept_code}, scope)
            assert pq.ok, pq.errors
            found = db.session.execute(case_select(pq.filter, scope, columns=[Case.id])).scalars().all()
            assert sorted(found) == sorted(expected), args
            # a saved query keeps the range (written with ~ whichever separator was typed)
            assert pq.params()["cv"] == args["cv"].replace("至", "~").replace("～", "~")
        for args, message in (({"ci": when["key"], "cv": "2026-03-01~2026-02-01"}, "范围起点（2026-03-01）晚于或大于终点"),
                              ({"ci": minutes["key"], "cv": "~"}, "的范围应写作“起~止”"),
                              ({"ci": minutes["key"], "cv": "1~2~3"}, "的范围应写作“起~止”"),
                              ({"ci": minutes["key"], "cv": "半小时~2"}, "“谈话时长分钟”应为整数，实际为“半小时”"),
                              ({"ci": when["key"], "cv": "2026-02-30~"}, "不是有效日期：2026-02-30"),
                              ({"ci": how["key"], "cv": "个别谈话~集体谈话"}, "不是数字或日期，不能按范围查询"),
                              ({"ci": done["key"], "cv": "否~是"}, "不是数字或日期，不能按范围查询")):
            pq = parse_filter(args, scope)
            assert not pq.ok and any(message in e for e in pq.errors), (args, pq.errors)
    client = login(app.test_client(), ids.sup)
    resp = client.get("/query/?" + urlencode({"unit": ids.dept_code, "ci": when["key"], "cv": "2026-03-01~2026-02-01"}))
    assert resp.status_code == 200 and "晚于或大于终点" in resp.get_data(as_text=True)


def test_another_scope_cannot_filter_on_the_item(app, world):
    ids, how, _when, _done, _made = _office_with_values(app, world, "cis")
    with app.app_context():
        other = scope_for(user_named(world.users["sup_a"]))  # unit A's subtree: not the office's
        pq = parse_filter({"ci": how["key"], "cv": "个别谈话"}, other)
        assert pq.errors == [f"自定义数据项“{how['key']}”不存在或不在您的权限范围内"]
    client = login(app.test_client(), world.users["sup_a"])
    assert how["label"] not in client.get("/query/").get_data(as_text=True)
    client = login(app.test_client(), ids.sup)
    assert how["label"] in client.get("/query/").get_data(as_text=True)


def test_query_page_and_export_carry_the_custom_item(app, world):
    ids, how, when, _done, made = _office_with_values(app, world, "cie")
    client = login(app.test_client(), ids.sup)
    html = client.get("/query/?" + urlencode({"unit": ids.dept_code, "ci": how["key"], "cv": "个别谈话"})).get_data(
        as_text=True)
    assert "自定义数据项·廉政谈话方式" in html
    resp = client.get("/query/export.xlsx?" + urlencode({"unit": ids.dept_code, "ci": how["key"], "cv": "个别谈话"}))
    assert resp.status_code == 200
    rows = [list(r) for r in load_workbook(io.BytesIO(resp.data)).active.iter_rows(values_only=True)]
    header = rows[2]
    assert "廉政谈话方式（自定义）" in header and "任前廉政谈话日期（自定义）" in header
    data = [r for r in rows[3:] if r and r[0] and not str(r[0]).startswith("共 ")]
    assert len(data) == 1
    assert data[0][header.index("廉政谈话方式（自定义）")] == "个别谈话"
    assert str(data[0][header.index("任前廉政谈话日期（自定义）")])[:10] == "2026-02-27"


def test_the_filter_reads_the_value_index(app, world):
    """EXPLAIN: the condition on a custom item is a search of its ix_custom_value_* index (a value, or a
    date range), not a scan of custom_value (PostgreSQL with sequential scans discouraged, as on a table of
    many values; SQLite as is)."""
    ids, how, when, _done, _made = _office_with_values(app, world, "cix")
    with app.app_context():
        scope = Scope("all")
        for args, index in (({"ci": how["key"], "cv": "个别谈话"}, "ix_custom_value_text"),
                            ({"ci": when["key"], "cv": "2026-01-01~2026-06-30"}, "ix_custom_value_date")):
            pq = parse_filter(args, scope)
            stmt = case_select(pq.filter, scope, columns=[func.count(Case.id)])
            sql = str(stmt.compile(dialect=db.engine.dialect, compile_kwargs={"literal_binds": True}))
            if db.engine.dialect.name == "postgresql":
                db.session.execute(text("SET LOCAL enable_seqscan = off"))
                plan = "\n".join(r[0] for r in db.session.execute(text("EXPLAIN " + sql)))
            else:
                plan = "\n".join(str(r[-1]) for r in db.session.execute(text("EXPLAIN QUERY PLAN " + sql)))
            db.session.rollback()
            assert index in plan, (args, plan)
