"""A custom rule (自定义规则) as the engine runs it: one approved version, its scope and its CEL condition.

It answers like a catalogued ``Rule`` (code, title, category, severity, points, basis, ``run(ctx)``), so
the evaluation log, lights, alarms and statistics need nothing of their own. The condition states what
must hold: true → 符合, false → 触发 (fail, with the version's severity), an error or a non-boolean
result → 不适用 with the reason (a missing item, never a 500 and never a pass).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import cached_property

from app.rules import cel_runtime, expression
from app.rules.registry import CATEGORY_NAMES, POINTS, Outcome, catalogue, fail, na, ok

CODE_RE = re.compile(r"^Z\d{2,4}$")
SEVERITIES = ("red", "yellow")
CATEGORIES = tuple(CATEGORY_NAMES)


def code_problem(code: str) -> str | None:
    """Why a custom rule code is refused, None when it is fine."""
    if code in catalogue():
        return f"规则编号“{code}”与内置规则目录重复"
    if not CODE_RE.match(code or ""):
        return f"自定义规则编号应以 Z 开头、后接 2–4 位数字（如 Z01），实际为“{code}”"
    return None


def region_matches(rule_region: str | None, unit_region: str | None) -> bool:
    """A province's code (``110000``) covers its cities and counties (``1101xx``), a city's its counties."""
    if not rule_region:
        return True
    if not unit_region:
        return False
    prefix = rule_region
    while prefix.endswith("00") and len(prefix) > 2:
        prefix = prefix[:-2]
    return unit_region.startswith(prefix)


@dataclass
class CustomRule:
    code: str
    version_no: int
    title: str
    category: str
    severity: str
    points: frozenset
    basis: str
    expression: str
    effective_from: dt.date | None = None
    version_id: int | None = None
    region_code: str | None = None
    unit_path: str | None = None  # the unit subtree it applies to
    grades: tuple = ()
    selection_types: tuple = ()
    params: dict = field(default_factory=dict)
    enabled_by_default = True
    local = False
    custom = True

    @property
    def version_label(self) -> str:
        return f"c{self.version_no}"

    @cached_property
    def reads(self) -> frozenset[str]:
        return cel_runtime.variables_of(self.expression)

    @cached_property
    def fields(self) -> frozenset[str]:
        return cel_runtime.fields_of(self.expression)

    @cached_property
    def program(self):
        return cel_runtime.compiled(self.expression)

    @cached_property
    def meta(self) -> dict:
        return {"code": self.code, "title": self.title, "category": self.category, "severity": self.severity,
                "when": ",".join(p for p in POINTS if p in self.points), "source": self.basis,
                "reads": sorted(self.reads & set(expression.known_items())), "params": "", "custom": True}

    def applies(self, ctx) -> bool:
        """Whether the case is in the rule's scope (region, unit subtree, target grades, selection types)."""
        unit = ctx.unit
        if self.region_code and not region_matches(self.region_code, unit.region_code if unit else None):
            return False
        if self.unit_path and not (unit is not None and (unit.path or "").startswith(self.unit_path)):
            return False
        if self.grades and ctx["target_grade"] not in self.grades:
            return False
        if self.selection_types and ctx["selection_type"] not in self.selection_types:
            return False
        return True

    @staticmethod
    def prepare(ctx, rules) -> None:
        """Bind at once what every custom rule about to run on this case reads."""
        names = frozenset().union(*(r.reads for r in rules)) if rules else frozenset()
        fields = frozenset().union(*(r.fields for r in rules)) if rules else frozenset()
        cel_runtime.runtime(ctx, names, fields)

    def run(self, ctx) -> Outcome:
        if not self.applies(ctx):
            return na("不在本规则的适用范围内")
        CustomRule.prepare(ctx, [self])  # binds only what is not bound yet
        return self.judge(ctx)

    def judge(self, ctx) -> Outcome:
        """The condition on a case in scope whose values ``prepare`` bound (the engine binds every custom
        rule's at once, then judges each)."""
        runtime = ctx._cel_runtime
        runtime.gaps.clear()
        try:
            result = self.program.execute(runtime.context)
        except Exception as exc:  # noqa: BLE001 - any runtime error of the condition reads as 不适用
            return na(self._reason(ctx, exc))
        if result is True:
            return ok()
        if result is False and runtime.gaps:  # false only because a date function had nothing to work on
            return na(self._reason(ctx, None, runtime.gaps[0]))
        if result is False:
            return fail(f"{self.title}（依据：{self.basis}）" if self.basis else self.title, self.severity)
        return na("条件的结果不是 true/false，按不适用处理")

    def _reason(self, ctx, exc: Exception | None, gap: str = "") -> str:
        missing = [label for k in sorted(self.reads)
                   if (label := cel_runtime.item_label(k)) is not None and ctx[k] is None]
        if missing:
            return f"缺少数据项：{'、'.join(missing)}"
        if exc is None:
            return f"条件执行出错：{gap}"
        if isinstance(exc, ZeroDivisionError):
            return "条件执行出错：除数为零"
        return f"条件执行出错：{str(exc).splitlines()[0][:120]}"
