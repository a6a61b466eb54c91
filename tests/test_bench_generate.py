"""bench/generate.py at a small size on PostgreSQL: the database holds what the run reported (it once
printed COPY times over a database left empty, exit 0). PostgreSQL only: the generator writes by COPY."""
import datetime as dt
import importlib.util
import sys
from pathlib import Path

import psycopg
import pytest

BENCH = Path(__file__).resolve().parents[1] / "bench"
UNITS, CASES = 200, 5000


def _load(name):
    sys.path.insert(0, str(BENCH))
    try:
        spec = importlib.util.spec_from_file_location(f"jishi_bench_{name}", BENCH / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # its dataclasses look their module up
        spec.loader.exec_module(module)
        return module
    finally:
        sys.path.remove(str(BENCH))


def test_generator_leaves_the_cases_it_reports(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("the generator writes by COPY: PostgreSQL only (JISHI_TEST_DATABASE_URL)")
    generate, common = _load("generate"), _load("common")
    # A database of its own (the name must contain "bench"), on the test server.
    url = db_url.replace("postgresql+psycopg://", "postgresql://").rsplit("/", 1)[0] + "/jishi_benchtest"
    generate.recreate(url)
    with psycopg.connect(url) as conn:
        out = generate.generate(conn, units=UNITS, cases=CASES, seed=1, today=dt.date(2026, 12, 1), verbose=False)
    with psycopg.connect(url) as conn:
        count = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                 for t in ("unit", "ab_user", "cadre_case", "case_fact", "case_qualification", "case_deadline",
                           "case_publicity")}
        users = conn.execute("SELECT count(*) FROM ab_user_role r JOIN ab_role o ON o.id = r.role_id "
                             "WHERE o.name IN ('填报员', '监督员', '系统管理员')").fetchone()[0]
    assert count["cadre_case"] == count["case_fact"] == count["case_qualification"] == CASES, count
    assert count["unit"] >= UNITS and count["unit"] == out["unit"][0], count
    assert count["ab_user"] == users == out["ab_user"][0] > 1, count
    assert count["case_deadline"] == out["case_deadline"][0] > CASES * 0.9, count
    assert count["case_publicity"] == out["case_publicity"][0] > 0, count

    with psycopg.connect(url) as conn, pytest.raises(generate.ShortDataSet, match="cadre_case 5,000 rows, 5,001"):
        generate.check_counts(conn, {"cadre_case": CASES + 1})  # what a short data set meets
    # Another benchmark must not drop the generated data set (bench/scope.py once did).
    with pytest.raises(SystemExit, match="marked 'jishi bench: generate.py'"):
        common.recreate_database(url, "scope.py")
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT count(*) FROM cadre_case").fetchone()[0] == CASES
