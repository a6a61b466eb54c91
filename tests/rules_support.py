"""Shared support for the rule tables (tests/test_rules_*.py).

Each table is a list of ``RuleCase``: a rule code, the expected outcome, and what differs from
the base case (``valid_case()`` flattened to item keys). The meta-test (test_rules_meta.py)
requires, for every registered rule, at least one "pass" and one "fail" row.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from app.rules.context import Ctx, Related, UnitFacts
from app.rules.registry import all_rules
from tests.record.test_case_validation import valid_case

AS_OF = dt.date(2026, 6, 30)


def base_values() -> dict:
    flat = {}
    for module in valid_case().values():
        flat.update(module)
    return flat


def base_unit(**changes) -> UnitFacts:
    facts = dict(code="SJ011", level="委办局", unit_type="政府", max_grade="厅局级副职", region_code="110101",
                 dual_managed=False, quotas={"县处级正职": 1, "县处级副职": 3})
    facts.update(changes)
    return UnitFacts(**facts)


@dataclass
class RuleCase:
    code: str
    expect: str  # "pass" | "fail" | "na"
    changes: dict = field(default_factory=dict)  # item key → value (None clears it)
    params: dict = field(default_factory=dict)  # overrides of the rule's defaults
    as_of: dt.date = AS_OF
    unit: dict | None = None  # changes to base_unit() for the reporting unit
    target_unit: dict | None = None  # changes to base_unit() for the target unit
    related: dict | None = None  # fields of Related
    severity: str | None = None  # expected severity of a fail
    note: str = ""

    def id(self) -> str:
        return f"{self.code}-{self.expect}-{self.note or len(self.changes)}"


def make_ctx(rc: RuleCase) -> Ctx:
    rule = all_rules()[rc.code]
    values = base_values()
    values.update(rc.changes)
    return Ctx(values=values, params={**rule.params, **rc.params}, as_of=rc.as_of,
               unit=base_unit(**(rc.unit or {})), target_unit=base_unit(**(rc.target_unit or {})),
               related=Related(**(rc.related or {})))


def check(rc: RuleCase):
    out = all_rules()[rc.code].run(make_ctx(rc))
    assert out.status == rc.expect, f"{rc.code} {rc.note}: expected {rc.expect}, got {out}"
    if out.status == "fail":
        assert out.message and not out.message.isascii(), "a hit needs a Chinese message"
        assert out.severity in ("red", "yellow")
        if rc.severity:
            assert out.severity == rc.severity, out
    return out
