"""The rule registry: code → (catalogue metadata, parameter defaults, function)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Callable, NamedTuple

from app.spec.rule_params import basis_words

SPEC = Path(__file__).resolve().parent.parent / "spec" / "rules.json"
POINTS = ("E", "S1", "S2", "D")
CATEGORY_NAMES = {"Q": "资格", "C": "条件", "P": "程序", "D": "纪律", "T": "时限", "X": "一致性"}


@lru_cache(maxsize=1)
def catalogue() -> dict[str, dict]:
    return {r["code"]: r for r in json.loads(SPEC.read_text(encoding="utf-8"))["rules"]}


class Outcome(NamedTuple):
    """A rule's answer. A tuple, not a dataclass: about 130 are made per case, and a frozen dataclass's
    constructor costs several times a tuple's."""
    status: str  # "pass" | "fail" | "na"
    severity: str | None = None  # "red" | "yellow" for a fail
    message: str = ""


PASS = Outcome("pass")


def ok() -> Outcome:
    return PASS


def na(reason: str = "") -> Outcome:
    """Not applicable: an input is absent or the rule does not concern this case. Never a pass."""
    return Outcome("na", message=reason)


def dated_by(step, deadline, missing: str, late: str) -> Outcome:
    """The procedure-order shape: ``step`` must be recorded (else ``missing``) and fall no later than
    ``deadline`` (else ``late``)."""
    if step is None:
        return fail(missing)
    if step > deadline:
        return fail(late)
    return ok()


def fail(message: str, severity: str | None = None) -> Outcome:
    """A hit. ``severity`` is needed only for the catalogue's red/yellow rules."""
    return Outcome("fail", severity, message)


@dataclass
class Rule:
    code: str
    fn: Callable
    params: dict = field(default_factory=dict)

    @cached_property
    def meta(self) -> dict:
        return catalogue()[self.code]

    @property
    def title(self) -> str:
        return self.meta["title"]

    @property
    def category(self) -> str:
        return self.meta["category"]

    @cached_property
    def severity(self) -> str:
        return self.meta["severity"]

    @cached_property
    def points(self) -> frozenset[str]:
        return frozenset(p.strip() for p in self.meta["when"].split(",") if p.strip())

    @cached_property
    def enabled_by_default(self) -> bool:
        return bool(self.meta["enabled_by_default"])

    @property
    def basis(self) -> str:
        """The regulation it rests on, in words (the catalogue's [V]/[S]/[M]/[L] markers spelled out)."""
        return basis_words(self.meta["source"])

    @property
    def local(self) -> bool:
        """[L] local-practice rules may be overridden per region or unit."""
        return "[L]" in self.meta["source"] or "[L]" in self.meta["params"]

    def run(self, ctx) -> Outcome:
        out = self.fn(ctx)
        if out.status == "fail" and out.severity is None:
            sev = self.severity
            out = Outcome("fail", "red" if sev == "red/yellow" else sev, out.message)
        return out


RULES: dict[str, Rule] = {}


def rule(code: str, **params):
    """Register a rule function under its catalogue code, with its parameters' defaults."""
    if code not in catalogue():
        raise KeyError(f"{code} is not in the rule catalogue")

    def register(fn):
        if code in RULES:
            raise KeyError(f"{code} registered twice")
        RULES[code] = Rule(code, fn, dict(params))
        fn.rule_code = code
        return fn

    return register
