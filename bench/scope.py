"""Unit scoping at 10,000 units: the supervisor's subtree filter against no filter at all.

    .venv/bin/python bench/scope.py [--units 10000] [--database-url URL]

Builds a tree of N units (root → 16 districts → departments → sub-units) in its own database
(default: PostgreSQL database `jishi_bench_scope` on 127.0.0.1, dropped and re-created; one another
benchmark filled, such as the generated `jishi_bench`, is refused; any SQLAlchemy URL works), then
times, through the real app and the test client:

* the unit list page and the REST list as the root supervisor (subtree scope: prefix match);
* the same as a district supervisor (a subtree of ~N/16);
* the same as the admin (no scope filter) — the baseline.

Prints medians, p95 and the ratio to the baseline; machines are noisy, the ratio is the figure.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sqlalchemy import insert, text  # noqa: E402

from common import p95, recreate_database  # noqa: E402


def build_tree(db, n: int) -> None:
    from app.models import Unit

    rows, next_id = [], 1

    def add(code, name, parent_id, path, level):
        nonlocal next_id
        rows.append({"id": next_id, "code": code, "name": name, "parent_id": parent_id, "path": path,
                     "level": level, "unit_type": "政府", "max_grade": "县处级正职", "authority": "科级任免权",
                     "dual_managed": False})
        next_id += 1
        return next_id - 1

    root = add("ROOT", "市委组织部", None, "/ROOT/", "市")
    per_district = (n - 1) // 16
    for d in range(16):
        dcode = f"D{d:02d}"
        dpath = f"/ROOT/{dcode}/"
        did = add(dcode, f"区{d}", root, dpath, "区县")
        depts = int(per_district ** 0.5) + 1
        made = 1
        for k in range(depts):
            if made >= per_district:
                break
            kcode = f"{dcode}-{k:03d}"
            kid = add(kcode, f"区{d}部门{k}", did, f"{dpath}{kcode}/", "委办局")
            made += 1
            for s in range(depts):
                if made >= per_district:
                    break
                scode = f"{kcode}-{s:03d}"
                add(scode, f"区{d}部门{k}下属{s}", kid, f"{dpath}{kcode}/{scode}/", "事业单位")
                made += 1
    db.session.execute(insert(Unit), rows)
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SELECT setval('unit_id_seq', (SELECT max(id) FROM unit))"))
        db.session.execute(text("ANALYZE unit"))
    db.session.commit()
    return len(rows)


def timed(client, url, repeat):
    client.get(url)  # warm
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        resp = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        assert resp.status_code == 200, (url, resp.status_code)
    samples.sort()
    return statistics.median(samples), p95(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--database-url", default=os.environ.get(
        "BENCH_SCOPE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/jishi_bench_scope"))
    args = parser.parse_args()
    url = args.database_url
    if url.startswith("postgres"):
        recreate_database(url, "scope.py")

    from flask_migrate import upgrade
    from werkzeug.security import generate_password_hash

    import config
    from app import create_app
    from app.audit import acting_as
    from app.extensions import db
    from app.models import AppUser, Unit

    overrides = dict(SQLALCHEMY_DATABASE_URI=url)
    boot = create_app(config.TestConfig, **overrides)
    with boot.app_context():
        upgrade()
    app = create_app(config.TestConfig, **overrides)
    with app.app_context():
        t0 = time.perf_counter()
        count = build_tree(db, args.units)
        print(f"built {count} units in {time.perf_counter() - t0:.1f} s ({db.engine.dialect.name})")
        sm = app.appbuilder.sm
        with acting_as("bench", "cli"):
            for username, role, code in (("b_admin", "系统管理员", None), ("b_root", "监督员", "ROOT"),
                                         ("b_district", "监督员", "D03")):
                unit_id = db.session.execute(text("SELECT id FROM unit WHERE code = :c"), {"c": code}).scalar()
                db.session.add(AppUser(username=username, first_name=username, last_name="", email=f"{username}@b",
                                       active=True, unit_id=unit_id, roles=[sm.find_role(role)],
                                       password=generate_password_hash("Bench-Passw0rd", method="pbkdf2:sha256:1000")))
            db.session.commit()
        district_size = db.session.query(Unit).filter(Unit.path.startswith("/ROOT/D03/")).count()

    results = {}
    for username in ("b_admin", "b_root", "b_district"):
        client = app.test_client()
        client.post("/login/", data={"username": username, "password": "Bench-Passw0rd"})
        for label, page in (("list page", "/unitview/list/"), ("REST list", "/api/v1/unit/?q=(page_size:20)")):
            results[(username, label)] = timed(client, page, args.repeat)

    print(f"district subtree: {district_size} units")
    print(f"{'who':<12}{'route':<12}{'median ms':>10}{'p95 ms':>10}{'× admin':>9}")
    for (username, label), (median, slow) in results.items():
        base = results[("b_admin", label)][0]
        print(f"{username:<12}{label:<12}{median:>10.1f}{slow:>10.1f}{median / base:>9.2f}")


if __name__ == "__main__":
    main()
