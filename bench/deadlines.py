"""The deadline scan on a generated database: cold, run again, and a few days later.

    .venv/bin/python bench/deadlines.py [--units 10000] [--cases 1000000] [--seed 1]
                                        [--reuse] [--as-of 2026-12-01] [--later 3] [--explain]
                                        [--database-url postgresql://postgres@127.0.0.1:5432/jishi_bench]

Generates the database with bench/generate.py, or with ``--reuse`` takes the existing one and puts
back what earlier scans did (deletes the deadline alarms and notices, reopens the statuses, un-reds
the cases: exact, because the generator never makes a case with an open node red). Then, through
the app, ``app.deadlines.due.scan``:

1. cold, as of today (``--as-of``): flags and notifies everything open;
2. again, as of the same day: nothing new (the unique keys);
3. ``--later`` days later: the nodes that fell due meanwhile.

Prints, for each run, the seconds, the rows it touched (ScanResult.as_dict()) and the ratio to a
same-run baseline: ``SELECT count(*) FROM case_deadline`` (and FROM cadre_case), median of 5, on
the same connection. The slowest statements of each run follow; ``--explain`` then resets again
and replays the cold run's statements in one rolled-back transaction, with EXPLAIN (ANALYZE,
BUFFERS) for those that took 50 ms or more. Target: under 5 s per scan at 1,000,000 cases.
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import generate  # noqa: E402
import psycopg  # noqa: E402
from common import StatementLog, require_data_set, short, slowest  # noqa: E402

RESET = (
    ("notices", "DELETE FROM inbox_message WHERE dedup_key LIKE 'deadline:%'"),
    ("alarms", "DELETE FROM alarm WHERE dedup_key LIKE 'deadline:%'"),
    ("statuses", "UPDATE case_deadline SET status = '未到期', days_late = 0 "
                 "WHERE submitted_on IS NULL AND (status <> '未到期' OR days_late <> 0)"),
    ("lights", "UPDATE cadre_case SET light = CASE WHEN status = '草稿' THEN NULL ELSE '绿' END "
               "WHERE light = '红' AND id IN (SELECT case_id FROM case_deadline WHERE submitted_on IS NULL)"),
)


def reset(url: str) -> dict:
    """Undo every deadline scan on a generated database; VACUUM ANALYZE what changed."""
    with psycopg.connect(url, autocommit=True) as conn:
        with conn.transaction():
            counts = {label: conn.execute(sql).rowcount for label, sql in RESET}
        conn.execute("VACUUM (ANALYZE) case_deadline, cadre_case, alarm, inbox_message")
    return counts


def refresh_open_facts(app) -> None:
    """The reset wrote statuses and lights behind the application's back: the statistics fact rows
    of the cases it may have touched (every unreported node's) are recomputed, before any timing."""
    from sqlalchemy import text

    from app.extensions import db
    from app.queries import facts as case_facts

    with app.app_context():
        roots = db.session.execute(text("SELECT DISTINCT root_id FROM case_deadline WHERE submitted_on IS NULL")).scalars()
        case_facts.refresh(root_ids=list(roots))
        db.session.commit()


def median_seconds(session, sql: str, repeat: int = 5) -> float:
    from sqlalchemy import text

    session.execute(text(sql)).all()  # warm
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        session.execute(text(sql)).all()
        samples.append(time.perf_counter() - start)
    session.rollback()
    return statistics.median(samples)


def explain(db, statements, threshold: float = 0.05) -> None:
    """Replay ``statements`` in order in one transaction, EXPLAIN ANALYZE the slow ones, roll back."""
    conn = db.engine.connect()
    trans = conn.begin()
    try:
        for seconds, statement, parameters, executemany in statements:
            dbapi = conn.connection.driver_connection
            with dbapi.cursor() as cur:
                if executemany:
                    cur.executemany(statement, parameters)
                elif seconds >= threshold:
                    print(f"\n-- {seconds:.3f} s in the run: {short(statement, 200, parameters)}")
                    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
                    print("\n".join(row[0] for row in cur.fetchall()))
                else:
                    cur.execute(statement, parameters)
    finally:
        trans.rollback()
        conn.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", generate.DEFAULT_URL))
    parser.add_argument("--units", type=int, default=10000)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="take the existing database, reset to never scanned")
    parser.add_argument("--as-of", type=dt.date.fromisoformat, default=dt.date.today())
    parser.add_argument("--later", type=int, default=3, help="days after --as-of for the third run")
    parser.add_argument("--explain", action="store_true")
    args = parser.parse_args(argv)
    url = args.database_url.replace("postgresql+psycopg://", "postgresql://")

    if args.reuse:
        require_data_set(url, args.cases)
        print("reset to never scanned:", reset(url))
    else:
        start = time.perf_counter()
        generate.recreate(url)
        with psycopg.connect(url) as conn:
            try:
                generate.generate(conn, units=args.units, cases=args.cases, seed=args.seed, today=args.as_of)
            except generate.ShortDataSet as exc:
                raise SystemExit(f"FAILED: {exc}")
        require_data_set(url, args.cases)
        print(f"database ready in {time.perf_counter() - start:.1f} s")

    from sqlalchemy import text

    import config
    from app import create_app
    from app.deadlines.due import scan
    from app.extensions import db

    app = create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=url)
    if args.reuse:
        refresh_open_facts(app)
    with app.app_context():
        sizes = db.session.execute(text(
            "SELECT (SELECT count(*) FROM cadre_case), (SELECT count(*) FROM case_deadline), "
            "(SELECT count(*) FROM case_deadline WHERE submitted_on IS NULL)")).one()
        print(f"{sizes[0]:,} cases, {sizes[1]:,} deadline rows, {sizes[2]:,} open; "
              f"PostgreSQL {db.session.execute(text('SHOW server_version')).scalar()}")
        base_deadline = median_seconds(db.session, "SELECT count(*) FROM case_deadline")
        base_case = median_seconds(db.session, "SELECT count(*) FROM cadre_case")
        print(f"baseline: count(*) case_deadline {base_deadline * 1000:.1f} ms, cadre_case {base_case * 1000:.1f} ms")

        log = StatementLog(db.engine)
        runs = [("cold", args.as_of), ("again", args.as_of), (f"+{args.later} days", args.as_of + dt.timedelta(args.later))]
        results, cold_statements = [], None
        for label, as_of in runs:
            log.start()
            start = time.perf_counter()
            result = scan(as_of).as_dict()
            seconds = time.perf_counter() - start
            statements = log.stop()
            results.append((label, seconds, result, slowest(statements)))
            if cold_statements is None:
                cold_statements = statements

        keys = ("updated", "flagged", "red", "sent", "reminders", "overdue", "missing")
        print(f"\n{'run':<10}{'as of':<12}{'seconds':>8}" + "".join(f"{k:>10}" for k in keys)
              + f"{'×deadline':>11}{'×case':>8}")
        for label, seconds, result, _ in results:
            print(f"{label:<10}{result['as_of']:<12}{seconds:>8.2f}" + "".join(f"{result[k]:>10,}" for k in keys)
                  + f"{seconds / base_deadline:>11.1f}{seconds / base_case:>8.1f}")
        for label, seconds, _, slowest_statements in results:
            print(f"\nslowest statements, {label} ({seconds:.2f} s):")
            for s in slowest_statements:
                print(f"  {s.seconds:7.3f} s  {short(s.statement, 110, s.parameters)}")

    if args.explain:
        print("\nreset to never scanned:", reset(url))
        refresh_open_facts(app)
        with app.app_context():
            explain(db, cold_statements)


if __name__ == "__main__":
    main()
