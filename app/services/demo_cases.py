"""Demo cases for seed-demo: one case at each stage in 市教育局 (SJ011), one draft in 市财政局.

Built through the same commands a clerk and the signers use (import, save, complete, sign,
pledge, submit), so the demo shows real signatures and a real hash chain.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

from sqlalchemy import select

from app.extensions import db
from app.models import Case, Unit
from app.scoping import Scope
from app.services import case_workflow, cases
from app.services.case_exchange import import_cases

TEMPLATE = Path(__file__).with_name("demo_case.json")
CONTENT = ("qualification", "motion", "nomination", "recommendation", "inspection", "consultation", "decision")
LATER = ("publicity", "appointment")

# (full name, unit, clerk, signers, stage)
DEMO_CASES = [
    ("王志远", "SJ011", "jyj_tby", ("jyj_qz1", "jyj_qz2", "jyj_qz3"), "二次提交"),
    ("李春梅", "SJ011", "jyj_tby", ("jyj_qz1", "jyj_qz2", "jyj_qz3"), "初次提交"),
    ("陈晓东", "SJ011", "jyj_tby", (), "填写中"),
    ("刘海燕", "SJ017", "czj_tby", (), "填写中"),
]
POSTS = ("局党组成员、副局长（分管组织人事）", "局党组书记、局长", "局党组书记、局长（单位主要负责人）")


def _data(name: str, unit_code: str, modules) -> dict:
    data = copy.deepcopy(json.loads(TEMPLATE.read_text(encoding="utf-8")))
    data["qualification"]["full_name"] = name
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
        modules = CONTENT + LATER if stage == "二次提交" else (CONTENT if stage == "初次提交" else CONTENT[:3])
        [case_id] = import_cases(_data(name, unit_code, modules), Scope("all"), clerk)
        case = db.session.get(Case, case_id)
        if stage == "填写中":
            _complete(case, CONTENT[:2])
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
