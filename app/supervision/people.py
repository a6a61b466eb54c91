"""The person registry's writes and what supervisors see of a person.

``record_correction`` stores a 档案专审 correction (a fact corrected from the value an earlier case has to
the value established by the archive review) or an ID-number correction (the old number → the right one),
then derives again every current case of the person, since X18/X19 read the corrections. Two ID numbers
are joined only here, never by name, and never when their cases name different people.
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.alarms.derived import derive
from app.audit import current_actor
from app.errors import JishiError
from app.extensions import db
from app.idnumber import id_check_char
from app.models import MODULE_MODELS, Case
from app.models.people import CORRECTABLE, PersonCorrection
from app.queries import people


class CorrectionRefused(JishiError):
    pass


def _valid_id(id_no: str) -> bool:
    return (len(id_no) == 18 and id_no[:17].isdigit() and id_check_char(id_no[:17]) == id_no[17].upper())


def _names(ids) -> set[str]:
    q = MODULE_MODELS["qualification"]
    return set(db.session.execute(select(q.full_name).join(Case, Case.id == q.case_id)
                                  .where(q.id_card_no.in_(list(ids)), Case.is_current.is_(True),
                                         q.full_name.is_not(None))).scalars())


def record_correction(id_card_no: str, item_key: str, old_value: str, new_value: str, basis: str,
                      decided_on: dt.date) -> PersonCorrection:
    """Record one correction and re-derive the person's current cases, in the caller's transaction."""
    id_card_no, old_value, new_value, basis = (v.strip() if isinstance(v, str) else v
                                               for v in (id_card_no, old_value, new_value, basis))
    if item_key not in CORRECTABLE:
        raise CorrectionRefused(f"更正事项“{item_key}”无效，应为：{'、'.join(CORRECTABLE)}")
    if not basis:
        raise CorrectionRefused("请填写更正依据（档案专审认定文件）")
    if not old_value or not new_value or old_value == new_value:
        raise CorrectionRefused("更正前后的值不能为空或相同")
    if not _valid_id(id_card_no):
        raise CorrectionRefused(f"公民身份号码“{id_card_no}”无效")
    if item_key == "id_card_no":
        if new_value != id_card_no:
            raise CorrectionRefused("身份证号更正的“更正后”应为本人的公民身份号码")
        if not _valid_id(old_value):
            raise CorrectionRefused(f"原公民身份号码“{old_value}”无效")
        mine, theirs = _names(people.linked_ids(new_value)), _names(people.linked_ids(old_value))
        if mine and theirs and not mine & theirs:
            raise CorrectionRefused(f"两个身份证号下的案例姓名不同（{'、'.join(sorted(theirs))} / {'、'.join(sorted(mine))}），"
                                    f"不能认定为同一人；如确属同一人，请先登记姓名更正")
    elif item_key in ("birth_date", "work_start_date", "party_join_date"):
        for value in (old_value, new_value):
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise CorrectionRefused(f"日期格式应为 YYYY-MM-DD，实际为“{value}”") from None
    actor = current_actor()
    row = PersonCorrection(id_card_no=id_card_no, item_key=item_key, old_value=old_value, new_value=new_value,
                           basis=basis, decided_on=decided_on, created_by_name=actor.name if actor else "系统")
    db.session.add(row)
    db.session.flush()
    ids = people.linked_ids(id_card_no)
    for case in people.person_cases(ids):
        derive(db.session.get(Case, case["id"]))
    return row
