"""The layout holds: no import cycle among app modules, no import from a lower layer to a higher one,
no module over 600 lines. docs/architecture.md explains the layers; this test is their definition.

Imports are read from the source (top-level and inside functions alike), so a deferred import
cannot hide a dependency.
"""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"

# Lowest first. A module may import its own layer and any layer below, never one above.
LAYERS = [
    ("foundation", ["app.extensions", "app.enums", "app.spec", "app.dates", "app.errors", "app.auth",
                    "app.instance_secret", "app.idnumber", "app.display"]),
    ("models", ["app.models"]),
    ("rules", ["app.rules"]),
    ("core", ["app.audit", "app.scoping", "app.integrity", "app.rule_settings"]),
    ("queries and infrastructure", ["app.queries", "app.infra"]),
    ("record", ["app.record"]),
    ("deadlines", ["app.deadlines"]),
    ("alarms", ["app.alarms"]),
    ("workflow", ["app.workflow"]),
    ("reporting and organisation", ["app.reporting", "app.organisation"]),
    ("supervision", ["app.supervision"]),
    ("tasks", ["app.tasks"]),
    ("demo", ["app.demo"]),
    ("web and command line", ["app.views", "app.cli", "app.security", "app.web_security", "app.robustness"]),
    ("application factory", ["app", "app.tasks.worker"]),  # the Celery entry point builds the app
]
MAX_LINES = 600


def modules() -> dict[str, Path]:
    found = {}
    for path in APP.rglob("*.py"):
        parts = list(path.relative_to(APP.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(mods: dict[str, Path]) -> dict[str, set[str]]:
    """module → the app modules it imports (a package's __init__ counts as the package)."""
    def resolve(name: str) -> str | None:
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name or None

    graph = defaultdict(set)
    for mod, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [f"{node.module}.{a.name}" if f"{node.module}.{a.name}" in mods else node.module
                         for a in node.names]
            for name in names:
                target = resolve(name) if name.split(".")[0] == "app" else None
                if target and target != mod:
                    graph[mod].add(target)
    return graph


def layer_of(mod: str) -> int:
    best, index = -1, None
    for i, (_name, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (mod == prefix or mod.startswith(prefix + ".")) and len(prefix) > best:
                best, index = len(prefix), i
    assert index is not None, f"{mod} 不属于任何一层：请在 LAYERS 与 docs/architecture.md 中为它安排位置"
    return index


def test_every_module_has_a_layer():
    for mod in modules():
        layer_of(mod)


def test_no_import_reaches_up_a_layer():
    mods = modules()
    upward = sorted(f"{m} ({LAYERS[layer_of(m)][0]}) → {t} ({LAYERS[layer_of(t)][0]})"
                    for m, targets in imports(mods).items() for t in targets if layer_of(t) > layer_of(m))
    assert upward == [], "下层模块导入了上层模块：\n" + "\n".join(upward)


def test_no_import_cycle():
    graph = imports(modules())
    index, low, stack, on_stack, cycles, counter = {}, {}, [], set(), [], [0]

    def visit(v):  # Tarjan's strongly connected components
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for v in list(graph):
        if v not in index:
            visit(v)
    assert cycles == [], f"导入环：{cycles}"


def test_no_module_is_longer_than_the_limit():
    long = sorted(f"{m}: {n} 行" for m, p in modules().items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES)
    assert long == [], f"超过 {MAX_LINES} 行的模块：{long}"


def test_the_check_sees_a_planted_violation(tmp_path, monkeypatch):
    """The checks are not vacuous: a rule importing a service is reported."""
    mods = modules()
    planted = tmp_path / "x.py"
    planted.write_text("from app.workflow import cases\n", encoding="utf-8")
    mods["app.rules.planted"] = planted
    graph = imports(mods)
    assert "app.workflow.cases" in graph["app.rules.planted"]
    assert layer_of("app.workflow.cases") > layer_of("app.rules.planted")
