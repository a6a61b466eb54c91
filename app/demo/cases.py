"""Demo cases for seed-demo: one case at each stage in 市教育局 (SJ011), one draft in 市财政局.

Built through the same commands a clerk and the signers use (import, save, complete, sign,
pledge, submit), so the demo shows real signatures and a real hash chain.
"""
from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.idnumber import id_check_char
from app.models import Case, Unit
from app.scoping import Scope
from app.workflow import cases
from app.workflow import submission as case_workflow
from app.workflow.exchange import import_cases

TEMPLATE = Path(__file__).with_name("demo_case.json")
CONTENT = ("qualification", "motion", "nomination", "recommendation", "inspection", "consultation", "decision")
LATER = ("publicity", "appointment")

# (full name, unit, clerk, signers, stage). The fully reported one keeps its early-2026 dates, so its
# first report is late today (T01) — a realistic red; the violating one breaks the quorum and the 公示.
DEMO_CASES = [
    ("赵建军", "SJ011", "jyj_tby", ("jyj_qz1", "jyj_qz2", "jyj_qz3"), "违规报警"),
    ("王志远", "SJ011", "jyj_tby", ("jyj_qz1", "jyj_qz2", "jyj_qz3"), "二次提交"),
    ("李春梅", "SJ011", "jyj_tby", ("jyj_qz1", "jyj_qz2", "jyj_qz3"), "初次提交"),
    ("陈晓东", "SJ011", "jyj_tby", (), "填写中"),
    ("孙立新", "SJ011", "jyj_tby", (), "逾期未报"),  # decided 6 days ago, first report still not made
    ("刘海燕", "SJ017", "czj_tby", (), "填写中"),
    ("周海波", "SJ011", "jyj_tby", ("jyj_qz1", "jyj_qz2", "jyj_qz3"), "科级"),  # 副科 → 正科 after 1.6 years: Q04
    # 王志远's earlier case, in his former unit: its 参加工作时间 is two years later than the one his 市教育局
    # case gives — a cross-case finding (X18) on that case, naming both case numbers.
    ("王志远", "SJ017", "czj_tby", (), "前案"),
]
POSTS = ("局党组成员、副局长（分管组织人事）", "局党组书记、局长", "局党组书记、局长（单位主要负责人）")


PERSONAL_DATES = {"birth_date", "work_start_date", "party_join_date", "party_full_member_date",
                  "current_post_date", "current_grade_date", "sanction_date"}


def _recent(data: dict, days_ago: int = 2) -> dict:
    """Move the procedure's dates so that the decision was ``days_ago`` days ago."""
    decided = dt.date.fromisoformat(data["decision"]["decision_date"])
    shift = (dt.date.today() - dt.timedelta(days=days_ago)) - decided
    for module in data.values():
        for key, value in module.items():
            if key not in PERSONAL_DATES and isinstance(value, str) and len(value) == 10 and value[4] == "-":
                try:
                    module[key] = (dt.date.fromisoformat(value) + shift).isoformat()
                except ValueError:
                    pass
    return data


def _township(data: dict) -> dict:
    """A 科级 promotion decided two days ago: 副主任 (乡科级副职) for 1.6 years → 主任 (乡科级正职)."""
    data = _recent(data)
    decided = dt.date.fromisoformat(data["decision"]["decision_date"])
    since = (decided - dt.timedelta(days=584)).isoformat()
    data["qualification"].update(current_post="市教育局教育督导室副主任", current_grade="乡科级副职",
                                 current_grade_date=since, current_post_date=since)
    data["motion"].update(target_post="市教育局教育督导室主任", target_grade="乡科级正职",
                          target_post_kind="机关内设机构领导职务", approved_quota=8, current_incumbents=7)
    return data


def _earlier(data: dict) -> dict:
    """The same person's case of 2018 in 市财政局 (科长 → 副处长), whose 参加工作时间 is 2004-07."""
    data = _recent(data, (dt.date.today() - dt.date(2018, 5, 15)).days)
    data["qualification"].update(work_start_date="2004-07-01", current_post="市财政局预算科科长",
                                 current_grade="乡科级正职", current_grade_date="2014-03-01",
                                 current_post_date="2014-03-01")
    data["motion"].update(target_post="市财政局综合处副处长", target_grade="县处级副职")
    return data


def _violating(data: dict) -> dict:
    """A meeting without quorum (7 of 11) and a 公示 of two days: P27 and P33 light red."""
    data = _recent(data)
    decided = dt.date.fromisoformat(data["decision"]["decision_date"])
    data["decision"].update(members_present=7, votes_for=7, votes_against=0, votes_defer=0,
                            decision_meeting_type="党委全委会")
    data["publicity"] = dict(data["publicity"], publicity_start=(decided + dt.timedelta(days=1)).isoformat(),
                             publicity_end=(decided + dt.timedelta(days=2)).isoformat())
    return data


FEMALE = {"李春梅", "刘海燕"}


def _person_id(name: str) -> str:
    """A valid ID number of one's own (GB 11643 check character), odd 17th digit for men."""
    seq = (sum(map(ord, name)) % 400) * 2 + (0 if name in FEMALE else 1)
    body = f"11010119800315{seq:03d}"
    return body + id_check_char(body)


def _data(name: str, unit_code: str, modules) -> dict:
    data = copy.deepcopy(json.loads(TEMPLATE.read_text(encoding="utf-8")))
    old_id, new_id = data["qualification"]["id_card_no"], _person_id(name)
    data["qualification"].update(full_name=name, id_card_no=new_id, sex="女" if name in FEMALE else "男")
    for person in data["nomination"]["nominee_list"]:
        if person.get("id_card_no") == old_id:
            person.update(id_card_no=new_id, name=name)
    data["motion"]["reporting_unit"] = data["motion"]["target_unit"] = unit_code
    return {k: v for k, v in data.items() if k in modules}


def _complete(case, keys):
    for key in keys:
        cases.save_module(case, key, {}, handler="演示经办人", leader="演示责任领导")
        cases.complete_module(case, key)


def seed_demo_cases(sm) -> int:
    """Create the demo cases that do not exist yet (matched by name and unit). Returns how many."""
    made = 0
    for name, unit_code, clerk_name, signer_names, stage in DEMO_CASES:
        unit = db.session.execute(select(Unit).where(Unit.code == unit_code)).scalar_one()
        exists = db.session.execute(select(Case.id).where(Case.unit_id == unit.id, Case.full_name == name)).first()
        if exists:
            continue
        clerk = sm.find_user(username=clerk_name)
        modules = CONTENT + LATER if stage == "二次提交" else (CONTENT if stage in ("初次提交", "逾期未报") else CONTENT[:3])
        data = _data(name, unit_code, modules)
        if stage == "违规报警":
            data = _violating(_data(name, unit_code, CONTENT + ("publicity",)))
        elif stage == "初次提交":
            data = _recent(data)  # decided two days ago: reported in time
        elif stage == "逾期未报":
            data = _recent(data, 6)  # due four days after… one day ago: 逾期 at the first scan
        elif stage == "科级":
            data = _township(_data(name, unit_code, CONTENT))
        elif stage == "前案":
            data = _earlier(_data(name, unit_code, CONTENT))
        [case_id] = import_cases(data, Scope("all"), clerk)
        case = db.session.get(Case, case_id)
        if stage == "填写中":
            _complete(case, CONTENT[:2])
        elif stage in ("逾期未报", "前案"):
            _complete(case, CONTENT)  # everything entered, nothing signed or reported
        else:
            _complete(case, CONTENT)
            for level, (signer_name, post) in enumerate(zip(signer_names, POSTS), start=1):
                case_workflow.sign(case, sm.find_user(username=signer_name), level, post, "情况属实同意报送")
            case_workflow.set_pledge(case, clerk, True)
            case_workflow.submit(case, clerk, 1)
            if stage == "二次提交":
                _complete(case, LATER)
                case_workflow.submit(case, clerk, 2)
        made += 1
    return made
