"""硬杠规则 / 规则参数 pages (issue 14): parameters in Chinese with their units, the basis in Chinese with its
markers in words, a typed form per parameter (no raw JSON, no ``__None``), the version in force, its
history with who entered it, and the cases judged under the rule — within the reader's scope."""
import datetime as dt
import re

from sqlalchemy import func, select

from app.audit import acting_as
from app.extensions import db
from app.models import RuleSetting
from tests.factories import login, office_ids, office_in, save_case, unique


def _settings(app, code) -> int:
    with app.app_context():
        return db.session.execute(select(func.count(RuleSetting.id)).where(RuleSetting.code == code)).scalar()


def test_the_catalogue_reads_in_chinese(client_for):
    html = client_for("clerk_a").get("/rules/").get_data(as_text=True)
    row = html.split('data-code="C02"')[1].split("</tr>")[0]
    params = row.split('class="params"')[1].split("</td>")[0]
    assert "最低得票率 50%" in params and "推荐排名上限" in params
    assert "min_vote_ratio" not in html and "max_rank" not in html and "None" not in params
    table = html.split('id="rules"')[1]
    assert not re.search(r"\[[SMVL]\]", table)  # markers in words …
    assert "仅见二手资料" in html.split('id="basis-legend"')[1].split("</p>")[0]  # … and explained
    assert "white-space:nowrap" in table.split("</thead>")[0]
    assert 'href="/rules/rule/C02"' in row


def test_a_new_version_is_entered_parameter_by_parameter(app, world, client_for):
    admin = client_for("admin")
    html = admin.get("/rulesettingview/version/Q01").get_data(as_text=True)
    field = html.split('data-param="min_work_years"')[1].split("</tr>")[0]
    assert "最低工作年限" in field and 'type="number"' in field and 'value="5"' in field and "年" in field
    assert "JSON" not in html and "__None" not in html
    assert "min_work_years" not in re.sub(r'(name|id|for|data-param)="[^"]*"', "", html)  # only in attributes
    before = _settings(app, "Q01")
    # wrong values: told in Chinese beside each field, nothing stored
    resp = admin.post("/rulesettingview/version/Q01", data={
        "effective_from": "2030-13-01", "enabled": "1", "p_min_work_years": "五年", "p_applies_from_grade": "县处级副职",
        "p_township_min_work_years": "3", "save": "1"})
    html = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "未保存" in html
    assert "“最低工作年限”应为整数" in html.split('data-param="min_work_years"')[1].split("</tr>")[0]
    assert "“生效日期”应为日期" in html
    assert _settings(app, "Q01") == before
    # good values: one version, storing what differs from the defaults; 乡科级 check switched off (empty)
    note = unique("放宽")
    resp = admin.post("/rulesettingview/version/Q01", data={
        "effective_from": "2030-01-01", "enabled": "1", "p_min_work_years": "6", "p_applies_from_grade": "县处级副职",
        "p_township_min_work_years": "", "note": note, "save": "1"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/rules/rule/Q01")
    with app.app_context():
        row = db.session.execute(select(RuleSetting).where(RuleSetting.note == note)).scalar_one()
        try:
            assert row.params == {"min_work_years": 6, "township_min_work_years": None}
            assert row.effective_from == dt.date(2030, 1, 1) and row.unit_id is None
            page = admin.get("/rules/rule/Q01").get_data(as_text=True)
            version = page.split(f'data-version="{row.id}"')[1].split("</tr>")[0]
            assert "2030年1月1日" in version and "最低工作年限 6 年" in version and "乡科级最低工作年限 不检查" in version
            assert world.users["admin"] in version  # who entered it
        finally:
            with acting_as("测试", "cli"):
                db.session.delete(row)
                db.session.commit()


def test_the_raw_json_form_is_gone(app, client_for):
    admin = client_for("admin")
    before = _settings(app, "Q01")
    resp = admin.post("/rulesettingview/add", data={"code": "Q01", "effective_from": "2030-01-01", "enabled": "y",
                                                    "params": '{"min_work_years": 6}'})
    assert resp.status_code == 302
    assert _settings(app, "Q01") == before
    listing = admin.get("/rulesettingview/list/").get_data(as_text=True)
    assert "参数（JSON）" not in listing


def test_a_non_local_rule_cannot_be_set_for_one_unit(app, world, client_for):
    admin = client_for("admin")
    before = _settings(app, "Q03")
    html = admin.post("/rulesettingview/version/Q03", data={
        "effective_from": "2030-01-01", "enabled": "1", "p_min_lower_posts": "2", "p_applies_from_grade": "县处级副职",
        "unit": "X", "save": "1"}).get_data(as_text=True)
    assert "不是地方性规则" in html and _settings(app, "Q03") == before


def test_the_cases_judged_under_a_rule_are_counted_within_scope(app, world):
    """P27 runs when a step is saved: the office's case is judged under it. The office's supervisor sees
    it on the rule page; another unit's clerk does not; a preview of a new version counts it, stores nothing."""
    ids = office_ids(app, world, "rp")
    with app.app_context():
        office = office_in(ids)
        case, _ = save_case(office.unit, office.clerk, dt.date.today() - dt.timedelta(days=3))
        case_no = case.case_no
    sup = login(app.test_client(), ids.sup)
    html = sup.get("/rules/rule/P27").get_data(as_text=True)
    assert case_no in html.split('id="judged-cases"')[1]
    total = int(re.search(r'id="judged-total">(\d+)<', html).group(1))
    assert total >= 1
    other = login(app.test_client(), world.users["clerk_b"])
    html = other.get("/rules/rule/P27").get_data(as_text=True)
    assert case_no not in html
    admin = login(app.test_client(), world.users["admin"])
    before = _settings(app, "P27")
    html = admin.post("/rulesettingview/version/P27", data={
        "effective_from": (dt.date.today() - dt.timedelta(days=30)).isoformat(), "enabled": "1",
        "p_quorum": "3/4", "preview": "1"}).get_data(as_text=True)
    assert int(re.search(r'id="preview-total">(\d+)<', html).group(1)) >= 1
    assert _settings(app, "P27") == before
