"""Import every category module so that every rule is registered."""
import importlib

for _name in ("q", "c", "p1", "p2", "d", "t", "x", "cross", "conduct"):
    try:
        importlib.import_module(f"app.rules.{_name}")
    except ModuleNotFoundError as exc:  # a category not written yet
        if exc.name != f"app.rules.{_name}":
            raise
