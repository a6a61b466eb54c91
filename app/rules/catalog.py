"""Every rule: the category modules register their functions in the registry on import.

Callers ask ``all_rules()`` here, never the registry itself, so that no rule can be missing because
its module was not imported yet (the registry sits below the categories; this module above them).
"""
from __future__ import annotations

from app.rules import c, conduct, cross, d, p1, p2, q, t, x  # noqa: F401  (each registers its rules)
from app.rules.registry import RULES, Rule


def all_rules() -> dict[str, Rule]:
    return RULES
