"""What a rule reads: the case's values (flat, by item key), its parameters, the date it is
judged on, unit facts, the working-day calendar and facts about other cases."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from app import dates
from app.dates import WorkCalendar, default_calendar
from app.enums import grade_rank
from app.spec import EDU


@dataclass
class UnitFacts:
    code: str = ""
    level: str = ""
    unit_type: str = ""
    max_grade: str = ""
    region_code: str | None = None
    dual_managed: bool = False
    quotas: dict = field(default_factory=dict)  # grade → approved posts
    authority: str = ""  # 任免权限 (app.enums.AUTHORITIES), D13
    path: str = ""  # the materialised path (a custom rule's unit subtree)


# What the person rules compare between two cases of one person (X18), with their labels.
PERSON_FACTS = {"full_name": "姓名", "birth_date": "出生年月", "work_start_date": "参加工作时间",
                "party_join_date": "入党时间", "full_time_education": "全日制教育学历"}


@dataclass
class Related:
    """Facts about other cases, gathered by the engine in batched queries."""

    # the other cases of the same person (same ID number, or one linked by a recorded correction), newest
    # first: dicts with case_no, root_id, status, decision_date, decision_result, target_post, target_grade,
    # selection_type, is_breaking_rule, appointment_effective_date, formal_appointment_date, current_post,
    # current_post_date and the person facts (app/queries/people.py PERSON_FACTS)
    same_person: list = field(default_factory=list)
    root_id: int | None = None  # this case's root: orders two cases decided on the same day
    corrections: list = field(default_factory=list)  # recorded 档案专审 corrections of the person
    # one unit across cases (app/queries/people.py): the reporting unit's name, the system's cases that move a
    # person out of a post of the unit (decided 通过 on or after this decision), and the sizes of the unit's
    # earlier batches
    unit_name: str | None = None
    leader_departures: list = field(default_factory=list)
    unit_batch_sizes: list = field(default_factory=list)
    memo: dict = field(default_factory=dict, repr=False, compare=False)  # what two rules derive alike, once
    parallel_open: int = 0  # other unfinished cases of the same person
    batch_size: int = 0  # cases decided at the same meeting
    freeze_windows: list = field(default_factory=list)  # (start, end, name) for the unit
    changed_after_submission: bool = False  # X16: content differs from the last snapshot


class Ctx(dict):
    """One case as the rules read it. ``ctx[key]`` is the case's value, ``None`` when absent; "", [] and {}
    read as absent, 0 and False are values. The present values are copied into the context itself once,
    so a subscript is the dict's own lookup (C) rather than a Python call: rules subscript about 600 times
    per case, the hottest call of a bench run."""

    def __init__(self, values: dict, params: dict | None = None, as_of: dt.date | None = None,
                 unit: UnitFacts | None = None, target_unit: UnitFacts | None = None,
                 calendar: WorkCalendar | None = None, related: Related | None = None):
        super().__init__({k: v for k, v in values.items() if v or isinstance(v, (int, float))})
        self.values = values
        self.params = params if params is not None else {}
        self.as_of = as_of if as_of is not None else dt.date.today()
        self.unit = unit  # the reporting unit
        self.target_unit = target_unit
        self.calendar = calendar if calendar is not None else default_calendar()
        self.related = related if related is not None else Related()

    def __missing__(self, key: str) -> None:
        return None

    def __repr__(self) -> str:
        return f"Ctx(as_of={self.as_of}, values={len(self)})"

    def has(self, *keys: str) -> bool:
        for key in keys:
            if key not in self:
                return False
        return True

    # ---- derived values (spec §0.3) ----
    @property
    def judge_date(self) -> dt.date:
        """The decision date, else the motion date, else the evaluation date."""
        return self["decision_date"] or self["motion_meeting_date"] or self.as_of

    @staticmethod
    def grade_index(grade: str | None) -> int | None:
        return grade_rank(grade)  # 职级 count as the 领导职务 level they correspond to

    @property
    def grade_step(self) -> int | None:
        a, b = self.grade_index(self["current_grade"]), self.grade_index(self["target_grade"])
        return None if a is None or b is None else b - a

    @staticmethod
    def edu_index(edu: str | None) -> int | None:
        return EDU.index(edu) if edu in EDU else None

    @property
    def highest_education(self) -> str | None:
        levels = [e for e in (self["full_time_education"], self["part_time_education"]) if e in EDU]
        return max(levels, key=EDU.index) if levels else None

    full_years = staticmethod(dates.full_years)

    @staticmethod
    def years(start: dt.date, end: dt.date) -> float:
        return (end - start).days / 365.25

    add_months = staticmethod(dates.add_months)

    def known_at_decision(self, day: dt.date | None) -> bool:
        """Whether a dated fact (a sanction, a report, a document) existed when the case was decided: the
        selecting body answers only for what it could know. Undecided cases know everything recorded."""
        decided = self["decision_date"]
        return day is None or decided is None or day <= decided

    def age_at(self, day: dt.date) -> int | None:
        born = self["birth_date"]
        return None if born is None else self.full_years(born, day)
