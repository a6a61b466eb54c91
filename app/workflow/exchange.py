"""JSON exchange of cases (docs/exchange-format.md): import all or nothing, export one.

``import_cases`` checks every case of the file — format, values, units within the importer's
scope, case numbers, batch agreement — and writes only when no case has a problem, in one
transaction. Problems name the case (its index in the file), the module and the item.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.alarms import derived
from app.errors import JishiError
from app.extensions import db
from app.models import Case, Unit
from app.record import custom_items
from app.record.completeness import module_state
from app.record.data import EMPTY, Problem, ensure_rows, export_case, from_exchange, new_case, read_case, write_values
from app.record.lock import WORKFLOW_MODULES
from app.record.validation import validate_values
from app.scoping import Scope
from app.spec import MODULE_KEYS, module
from app.workflow.cases import find_or_create_batch


class ImportFailed(JishiError):
    def __init__(self, problems: list[dict]):
        self.problems = problems
        super().__init__(f"{len(problems)} 处问题")


def _problem(index: int, p: Problem) -> dict:
    return {"case": index, **p.as_dict()}


def system_record_problems(raw) -> list[Problem]:
    """Signatures, the pledge, submissions, their statuses and the review are records the workflow
    makes in the system; a file can only forge them, so a file that fills any of them is refused
    (empty values, as an export of a draft has none, are fine)."""
    if not isinstance(raw, dict):
        return []
    problems = []
    for mkey in WORKFLOW_MODULES:
        block = raw.get(mkey)
        if block in EMPTY or not isinstance(block, dict):
            continue  # a wrong shape is reported by from_exchange
        spec = module(mkey)
        for item in spec.items:
            if block.get(item.key) not in EMPTY:
                problems.append(Problem(mkey, item.key, f"“{spec.name}”的“{item.label}”（{mkey}.{item.key}）是系统记录，"
                                                         "只能由系统中的签字、承诺、提交和审核产生，不能从文件导入，请从文件中删除"))
    return problems


def _custom_for_file(raw, scope: Scope) -> dict:
    """The custom items a file's case may fill: those of its reporting unit (when that unit exists and is
    in the importer's scope) in force on its decision date (today when it has none). Any other custom
    key is an unknown key, as for the forms."""
    motion = raw.get("motion") if isinstance(raw, dict) else None
    code = motion.get("reporting_unit") if isinstance(motion, dict) else None
    if not isinstance(code, str) or not code:
        return {}
    unit = db.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
    if unit is None or not scope.contains(unit.id):
        return {}
    decision = raw.get("decision")
    on = None
    if isinstance(decision, dict) and isinstance(decision.get("decision_date"), str):
        try:
            on = dt.date.fromisoformat(decision["decision_date"])
        except ValueError:
            on = None  # reported by from_exchange
    return custom_items.specs_for_unit(unit, on)


def import_cases(data, scope: Scope, user=None) -> list[int]:
    """Create the cases of ``data`` (one case object or a list). Returns their ids."""
    cases = data if isinstance(data, list) else [data]
    if not cases:
        raise ImportFailed([{"case": None, "module": "", "key": "", "message": "文件中没有案例"}])
    problems: list[dict] = []
    planned = []
    seen_numbers = set()
    for index, raw in enumerate(cases):
        records = system_record_problems(raw)
        values, found = from_exchange(raw, _custom_for_file(raw, scope))
        if not found and not records:
            found = validate_values(values)
        found = records + found
        motion = values.get("motion", {})
        unit = None
        # A value already refused (a NUL byte, too long) is not looked up: PostgreSQL would refuse it.
        refused = {p.key for p in found if p.module == "motion"}
        code = motion.get("reporting_unit")
        if "reporting_unit" in refused:
            pass
        elif not code:
            found.append(Problem("motion", "reporting_unit", "“选任责任单位”未填写（单位代码）"))
        else:
            unit = db.session.execute(select(Unit).where(Unit.code == code)).scalar_one_or_none()
            if unit is None or not scope.contains(unit.id):
                # One answer for both: a file must not learn which units exist outside the scope.
                found.append(Problem("motion", "reporting_unit", f"单位代码“{code}”不存在或不在您的权限范围内"))
                unit = None
        target = motion.get("target_unit")
        if target and "target_unit" not in refused and \
                db.session.execute(select(Unit.id).where(Unit.code == target)).first() is None:
            found.append(Problem("motion", "target_unit", f"单位代码“{target}”不存在"))
        case_no = motion.get("case_no")
        if case_no and unit is not None and "case_no" not in refused:
            # The prefix first: whether another unit's number is taken is none of the file's business.
            if not case_no.startswith(unit.code + "-"):
                found.append(Problem("motion", "case_no", f"案例编号“{case_no}”应以单位代码“{unit.code}-”开头"))
            elif case_no in seen_numbers or db.session.execute(
                    select(Case.id).where(Case.case_no == case_no, Case.unit_id == unit.id)).first() is not None:
                found.append(Problem("motion", "case_no", f"案例编号“{case_no}”已存在"))
            elif db.session.execute(select(Case.id).where(Case.case_no == case_no)).first() is not None:
                # Taken by a unit whose code extends this one's (A / A-1): not said whose or that it is.
                found.append(Problem("motion", "case_no", f"案例编号“{case_no}”不能使用，请留空由系统分配"))
            seen_numbers.add(case_no)
        problems += [_problem(index, p) for p in found]
        planned.append((values, unit, case_no))
    if problems:
        raise ImportFailed(problems)
    created = []
    try:
        with db.session.no_autoflush:
            for index, (values, unit, case_no) in enumerate(planned):
                case = new_case(unit, user)
                if case_no:
                    case.case_no = case_no
                db.session.add(case)
                db.session.flush()
                case.root_id = case.id
                batch, batch_problems = find_or_create_batch(unit, values["decision"])
                if batch_problems:
                    raise ImportFailed([_problem(index, p) for p in batch_problems])
                case.batch = batch
                ensure_rows(case)
                for key in MODULE_KEYS:
                    if key not in WORKFLOW_MODULES:  # refused above when filled; never written from a file
                        write_values(case, key, values[key])
                created.append(case)
        db.session.flush()
        for case in created:
            merged = read_case(case)
            for key in MODULE_KEYS:
                case.module_row(key).state = module_state(merged, key, completed=False,
                                                          extra=custom_items.items_for(case, key))
            derived.derive(case, before=None)  # monitored from the start: light, evaluation, deadlines
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return [c.id for c in created]


def export_content(case: Case) -> dict:
    """The case's entered content without its system records (signatures, submissions): what can
    be imported again as a new draft."""
    return {k: v for k, v in export_case(case).items() if k not in WORKFLOW_MODULES}
