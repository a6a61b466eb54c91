"""Every catalogued rule is registered, enabled as the catalogue says, and has its passing and
failing rows in a category table."""
import importlib
import json
from pathlib import Path

import pytest

from app.rules.registry import catalogue

from app.rules.catalog import all_rules
from tests.factories import ADDED_RULES, NEW_RULES

TABLE_MODULES = [f"tests.rules.test_rules_{part}" for part in ("q", "c", "p1", "p2", "d", "t", "x", "fidelity", "cross", "conduct")]
SHARED = Path(__file__).resolve().parents[3] / "shared" / "spec" / "rules.json"


def _rows():
    rows = []
    for name in TABLE_MODULES:
        rows += importlib.import_module(name).TABLE
    return rows


def test_our_catalogue_covers_the_shared_one():
    """app/spec may grow or correct shared/spec (issue 13 did both), never lose a rule of it."""
    if not SHARED.exists():
        pytest.skip(f"shared catalogue not found at {SHARED}")
    shared = {r["code"]: r for r in json.loads(SHARED.read_text("utf-8"))["rules"]}
    ours = catalogue()
    assert set(shared) <= set(ours)
    assert set(ours) - set(shared) == set(ADDED_RULES)
    for code, rule in shared.items():
        assert ours[code]["category"] == rule["category"], code


def test_every_catalogued_rule_is_registered():
    assert set(all_rules()) == set(catalogue())
    assert len(catalogue()) == 117 + NEW_RULES


def test_defaults_follow_the_catalogue():
    rules = all_rules()
    enabled = [r for r in rules.values() if r.enabled_by_default]
    assert len(enabled) == 112 + NEW_RULES
    red_hard_bars = [r for r in enabled if r.category in "QCPD" and r.severity in ("red", "red/yellow")]
    assert len(red_hard_bars) >= 53


def test_every_rule_has_a_passing_and_a_failing_row():
    seen = {}
    for row in _rows():
        seen.setdefault(row.code, set()).add(row.expect)
    lacking = {code: sorted({"pass", "fail"} - seen.get(code, set())) for code in all_rules()
               if not {"pass", "fail"} <= seen.get(code, set())}
    assert lacking == {}, f"rules lacking rows: {lacking}"
