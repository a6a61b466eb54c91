"""50 concurrent clients against gunicorn on PostgreSQL (bench/load.py, fewer requests): no server
error, and every acknowledged save is in the database exactly once. PostgreSQL only: SQLite has one
writer and is not what gunicorn serves in production."""
import importlib.util
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "load.py"


def _load_module():
    spec = importlib.util.spec_from_file_location("jishi_bench_load", BENCH)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_fifty_clients_on_gunicorn_lose_nothing(app, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("the load test runs on PostgreSQL (JISHI_TEST_DATABASE_URL)")
    load = _load_module()
    clients = load.create_clients(app, 50)
    figures = load.run(db_url, clients, budget=6, seconds=30, workers=2, threads=4)
    print(figures)
    assert figures["by_kind"]["save"] >= 50 * 3, figures  # every client got its saves in
    assert figures["server_errors"] == 0, figures
    assert figures["lost_writes"] == [], figures["lost_writes"]
    assert figures["saves_acknowledged"] + figures["conflicts_409"] == figures["by_kind"]["save"], figures
