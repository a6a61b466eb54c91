"""The case list, the statistics table and a 100,000-row export on a generated database.

    .venv/bin/python bench/queries.py [--database-url postgresql://postgres@127.0.0.1:5432/jishi_bench]
                                      [--repeat 30] [--stat-repeat 3] [--export-rows 100000] [--year 2025]
                                      [--only list,stats,export] [--explain] [--no-prepare]

Works on a database bench/generate.py made (1,000,000 cases over 10,000 units; nothing is
regenerated; nothing is written but a missing bench user, and what the app's start-up syncs).
Through the real app:

1. the case list ``/cases/list/`` with the test client, logged in as the admin (系统管理员), the
   province-root supervisor (监督员 at the root unit) and a district supervisor (监督员 at a district
   组织部); for each, page 1 and a deep page (offset ≈ half the user's cases, at most 50,000) at page
   size 25 and 100, ``--repeat`` times: median and p95 in ms, and the SQL statements of one page
   (a ``before_cursor_execute`` count, by kind) — the same at page size 25 and 100, or it fails;
2. the same pages through a plain Flask-AppBuilder ModelView on Case — stock ModelView, stock
   template, the same list and search columns, labels, formatters, order and page size — registered
   on the same app for the benchmark only (no permissions written; it checks CaseView's
   ``can_list``). It is
   given the same rows as the user sees with FAB's own ``FilterStartsWith`` on ``unit.path`` (a
   supervisor) or no filter (the admin): the baseline; the ratio is the figure;
3. the yearly statistics table (``unit_table``, all units under the root, the last full calendar
   year, ``Scope("all")``, with 同比) and the same year by month (``period_table``): median seconds
   of ``--stat-repeat`` runs after one warm-up, and the ratio to ``count(*)`` of the same cases;
4. the query-result export (app.reporting.exports.write_export) of about ``--export-rows``
   cases (the province-root supervisor's decision dates back from the end of ``--year`` until that
   many), in a subprocess: seconds, rows, the file's size, the resident set before and at its peak
   while the export ran (sampled every 5 ms: the growth is the figure) and, in a second run, the
   tracemalloc peak of the Python heap.

Ends with a table of the figures, their targets and PASS/FAIL. ``--explain`` prints EXPLAIN
(ANALYZE, BUFFERS) of each page's slowest statement and of the statistics statements.
``--no-prepare`` runs everything with psycopg's automatic server-side prepared statements off
(``prepare_threshold=None``): psycopg prepares a statement the fifth time a connection runs it, and
PostgreSQL may then switch to a generic plan that ignores the parameter values — the export's
keyset chunks, for one, go from 0.05 s to 1 s each after the tenth.
Targets (issue 6): list p95 ≤ 200 ms with ≤ 12 statements per page; ratio to the plain view ≤ 1.2
(median); statistics ≤ 1 s; export ≤ 10 s and ≤ 200 MB.
"""
from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from common import StatementLog, p95, require_data_set, short, slowest  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/jishi_bench"
PASSWORD = "Bench-Passw0rd"
PAGE_SIZES = (25, 100)
MAX_DEEP_OFFSET = 50_000
TARGETS = {"p95_ms": 200, "statements": 12, "ratio": 1.2, "stats_s": 1.0, "export_s": 10.0, "export_mb": 200}


# ---- statements -------------------------------------------------------------------------------------

KINDS = (  # (kind, pattern on the statement): what each statement of a page is for
    ("session", r"FROM ab_user\b|FROM ab_role, ab_user_role|FROM ab_group"),
    ("permission", r"ab_permission_view"),
    ("scope", r"^SELECT unit\.path FROM unit WHERE unit\.id ="),
    ("count", r"^SELECT count\(\*\) AS count_1 FROM \(SELECT cadre_case\.id"),
    ("rows", r"^SELECT cadre_case\.id AS cadre_case_id"),
    ("per-row", r"^SELECT unit\.id, unit\.code, .* WHERE unit\.id = "),
    ("units", r"^SELECT unit\.id, unit\.code, .* WHERE unit\.id IN "),
)


def kind_of(statement: str) -> str:
    one = re.sub(r"\s+", " ", statement).strip()
    for kind, pattern in KINDS:
        if re.search(pattern, one):
            return kind
    return "other"


def by_kind(rows) -> dict:
    return dict(collections.Counter(kind_of(r[1]) for r in rows))


def explain(db, statement, parameters) -> str:
    conn = db.engine.raw_connection()
    try:
        from app.queries.cases import REPORTING_SETTINGS

        cur = conn.cursor()
        for name, value in REPORTING_SETTINGS.items():  # as the app runs its reporting statements
            cur.execute(f"SET LOCAL {name} = '{value}'")
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters)
        return "\n".join("      " + r[0] for r in cur.fetchall())
    finally:
        conn.rollback()
        conn.close()


# ---- the app, the users and the plain view ----------------------------------------------------------

def plain_view_class():
    """A stock FAB ModelView on Case showing what CaseView shows (columns, search columns, labels,
    formatters, order, page size), the rows restricted the plain FAB way: FilterStartsWith on the unit's path."""
    from flask_appbuilder import ModelView
    from flask_appbuilder.models.sqla.filters import FilterStartsWith
    from flask_appbuilder.models.sqla.interface import SQLAInterface

    from app.models import Case
    from app.scoping import current_scope
    from app.views.cases import CaseView

    class UserSubtree(FilterStartsWith):
        """The logged-in user's subtree (the admin: everything), by the related unit's path."""

        def apply(self, query, value):
            scope = current_scope()
            return query if scope.kind == "all" else super().apply(query, scope.path or "\x00")

    class PlainCaseList(ModelView):
        route_base = "/bench/plain-cases"
        datamodel = SQLAInterface(Case)
        class_permission_name = "CaseView"  # the users' own can_list; no permission is created
        base_permissions = ["can_list"]
        list_columns = list(CaseView.list_columns)
        # FAB's default searches every column, relations too: the search form would load every
        # module row of the million cases into its dropdowns.
        search_columns = list(CaseView.search_columns)
        label_columns = dict(CaseView.label_columns)
        formatters_columns = dict(CaseView.formatters_columns)
        base_order = CaseView.base_order
        page_size = CaseView.page_size
        base_filters = [["unit.path", UserSubtree, None]]

    return PlainCaseList


NO_PREPARE = {"SQLALCHEMY_ENGINE_OPTIONS": {"connect_args": {"prepare_threshold": None}}}


def make_app(url: str, no_prepare: bool = False):
    import config
    from app import create_app

    app = create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=url, **(NO_PREPARE if no_prepare else {}))
    ab = app.appbuilder
    update, ab.update_perms = ab.update_perms, False  # register the baseline without touching permissions
    try:
        with app.app_context():
            ab.add_view_no_menu(plain_view_class())
    finally:
        ab.update_perms = update
    return app


def bench_users(app) -> dict:
    """{label: (username, unit path or None)}: the admin, the root supervisor, a district supervisor;
    any that the generator did not make is created (password Bench-Passw0rd)."""
    from sqlalchemy import select
    from werkzeug.security import generate_password_hash

    from app.audit import acting_as
    from app.extensions import db
    from app.models import AppUser, Unit

    sm = app.appbuilder.sm
    out = {}
    with app.app_context():
        root = db.session.execute(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id)).scalars().first()
        district = db.session.execute(select(Unit).where(Unit.level == "区县", Unit.unit_type == "组织部")
                                      .order_by(Unit.code)).scalars().first()
        if root is None or district is None:
            raise SystemExit("no generated tree in this database: run bench/generate.py first")
        for label, role, unit, fallback in (("admin", "系统管理员", None, "bench_admin"),
                                            ("root supervisor", "监督员", root, "bench_root_supervisor"),
                                            ("district supervisor", "监督员", district, "bench_district_supervisor")):
            role_obj = sm.find_role(role)
            stmt = select(AppUser).where(AppUser.roles.contains(role_obj), AppUser.active.is_(True))
            stmt = stmt.where(AppUser.unit_id == unit.id) if unit is not None else stmt
            user = db.session.execute(stmt.order_by(AppUser.id)).scalars().first()
            if user is None:
                with acting_as("bench", "cli"):
                    user = AppUser(username=fallback, first_name=fallback, last_name="", email=f"{fallback}@bench.invalid",
                                   active=True, unit_id=unit.id if unit else None, roles=[role_obj],
                                   password=generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000"))
                    db.session.add(user)
                    db.session.commit()
                print(f"created {fallback} ({role} at {unit.name if unit else 'no unit'})")
            out[label] = (user.username, unit.path if unit is not None else None, unit.name if unit else "全部")
        db.session.remove()
    return out


def visible_cases(app, username: str) -> int:
    from sqlalchemy import func, select

    from app.extensions import db
    from app.models import AppUser, Case
    from app.scoping import scope_for

    with app.app_context():
        user = db.session.execute(select(AppUser).where(AppUser.username == username)).scalar_one()
        n = db.session.execute(select(func.count(Case.id)).where(scope_for(user).clause(Case.unit_id))).scalar()
        db.session.remove()
    return n


# ---- 1–2: the list ----------------------------------------------------------------------------------

def timed(client, url: str, repeat: int, recorder) -> dict:
    resp = client.get(url)  # warm
    assert resp.status_code == 200, (url, resp.status_code)
    samples, statements = [], None
    for i in range(repeat):
        recorder.start()
        start = time.perf_counter()
        resp = client.get(url)
        samples.append((time.perf_counter() - start) * 1000)
        rows = recorder.stop()
        assert resp.status_code == 200, (url, resp.status_code)
        if statements is None or len(rows) > len(statements):
            statements = rows  # the page's statements: the largest set seen
    samples.sort()
    return {"median": statistics.median(samples), "p95": p95(samples),
            "statements": len(statements), "kinds": by_kind(statements),
            "slowest": slowest(statements, 1)[0] if statements else None}


def list_pages(app, users: dict, repeat: int, recorder, explain_slow: bool) -> list[dict]:
    from app.extensions import db

    results = []
    for label, (username, _path, unit_name) in users.items():
        total = visible_cases(app, username)
        deep_offset = min(MAX_DEEP_OFFSET, total // 2)
        client = app.test_client()
        resp = client.post("/login/", data={"username": username, "password": PASSWORD})
        assert resp.status_code in (200, 302), resp.status_code
        for size in PAGE_SIZES:
            for where, page in (("page 1", 0), (f"offset {deep_offset:,}", deep_offset // size)):
                row = {"user": label, "username": username, "unit": unit_name, "cases": total, "size": size,
                       "where": where}
                for view, prefix in (("CaseView", "/cases/list/"), ("PlainCaseList", "/bench/plain-cases/list/")):
                    url = f"{prefix}?psize_{view}={size}" + (f"&page_{view}={page}" if page else "")
                    row[view] = timed(client, url, repeat, recorder)
                row["ratio"] = row["CaseView"]["median"] / row["PlainCaseList"]["median"]
                results.append(row)
                r = row["CaseView"]
                print(f"  {label:<20}{size:>4}/page {where:<15} {r['median']:7.1f} ms median {r['p95']:7.1f} ms p95 "
                      f"{r['statements']:3} stmts; plain {row['PlainCaseList']['median']:7.1f} ms "
                      f"{row['PlainCaseList']['statements']:3} stmts; × {row['ratio']:.2f}", flush=True)
                if explain_slow and r["slowest"] and r["slowest"][0] > 0.02:
                    seconds, statement, parameters, _ = r["slowest"]
                    with app.app_context():
                        print(f"    slowest {seconds * 1000:.1f} ms: {short(statement)}")
                        print(explain(db, statement, parameters))
                        db.session.remove()
    return results


# ---- 3: statistics ----------------------------------------------------------------------------------------

def run_statistics(app, year: int, repeat: int, recorder, explain_slow: bool) -> dict:
    from sqlalchemy import select, text

    from app.extensions import db
    from app.models import Unit
    from app.queries.cases import CaseFilter, count
    from app.queries.statistics import period_table, unit_table
    from app.scoping import Scope

    out = {}
    with app.app_context():
        root = db.session.execute(select(Unit).where(Unit.parent_id.is_(None)).order_by(Unit.id)).scalars().first()
        year_filter = CaseFilter(date_from=dt.date(year, 1, 1), date_to=dt.date(year, 12, 31))
        scope = Scope("all")
        cases = count(year_filter, scope)
        start = time.perf_counter()
        for _ in range(3):
            count(year_filter, scope)
        base = (time.perf_counter() - start) / 3
        db.session.execute(text("SELECT 1"))
        # The calendar year's 同比 year is only partly generated (two years back from the day of
        # generation); the twelve months to the latest decision have a full year before them.
        latest = db.session.execute(text("SELECT max(decision_date) FROM batch")).scalar()
        rolling = CaseFilter(date_from=latest - dt.timedelta(days=364), date_to=latest)
        for label, run in (
                ("unit_table", lambda: unit_table(year_filter, scope, root)),
                ("unit_table, 12 months", lambda: unit_table(rolling, scope, root)),
                ("period_table", lambda: period_table(
                    CaseFilter(unit_id=root.id, date_from=year_filter.date_from, date_to=year_filter.date_to),
                    scope, "month"))):
            recorder.start()
            start = time.perf_counter()
            table = run()  # the warm-up run, also the one whose statements are shown
            cold = time.perf_counter() - start
            statements = recorder.stop()
            samples = []
            for _ in range(repeat):
                start = time.perf_counter()
                run()
                samples.append(time.perf_counter() - start)
            db.session.rollback()
            out[label] = {"cold": cold, "median": statistics.median(samples), "rows": len(table.rows),
                          "people": table.total.values["people"],
                          "previous": (table.total.previous or {}).get("people"),
                          "statements": len(statements), "base": base,
                          "cases": cases if label != "unit_table, 12 months" else table.total.values["people"],
                          "slowest": slowest(statements)}
            r = out[label]
            print(f"  {label:<22} {r['median']:7.2f} s median ({r['cold']:.2f} s first) {r['rows']:3} rows, "
                  f"{r['people']:,} cases ({r['previous'] or 0:,} a year before), {r['statements']} statements; "
                  f"count(*) of the same cases {base * 1000:.0f} ms, × {r['median'] / base:.1f}", flush=True)
            for seconds, statement, _, _ in r["slowest"]:
                print(f"      {seconds:7.3f} s  {short(statement, 110)}")
            if explain_slow:
                for seconds, statement, parameters, _ in r["slowest"]:
                    if seconds > 0.1:
                        print(f"    EXPLAIN {short(statement, 100)}")
                        print(explain(db, statement, parameters))
        db.session.remove()
    return out


# ---- 4: the export (in a child process: its own peak RSS) -----------------------------------------------

class RssSampler:
    """The process's resident set, sampled every few milliseconds in a thread: the peak of a stretch
    of work (``ru_maxrss`` only gives the peak of the whole life, start-up included)."""

    def __init__(self, every: float = 0.005):
        import threading

        self.every, self.peak, self._stop = every, 0, threading.Event()
        self.start = self.now()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def now() -> int:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, self.now())
            self._stop.wait(self.every)

    def stop(self) -> tuple[int, int]:
        """(RSS at start, peak RSS) in bytes."""
        self._stop.set()
        self._thread.join()
        return self.start, max(self.peak, self.now())


def export_child(url: str, username: str, year: int, rows: int, trace: bool, no_prepare: bool) -> None:
    """Runs in the subprocess: print one JSON line with what the export took."""
    import resource

    from sqlalchemy import select

    import config
    from app import create_app
    from app.extensions import db
    from app.models import AppUser
    from app.queries.cases import count
    from app.reporting import exports as query_export
    from app.scoping import scope_for

    app = create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=url, FAB_UPDATE_PERMS=False,
                     **(NO_PREPARE if no_prepare else {}))
    with app.app_context():
        user = db.session.execute(select(AppUser).where(AppUser.username == username)).scalar_one()
        scope = scope_for(user)
        end = dt.date(year, 12, 31)
        lo, hi = 1, 730  # days back from the end of the year until about ``rows`` cases
        while lo < hi:
            mid = (lo + hi) // 2
            pq = query_export.parse_filter({"date_from": (end - dt.timedelta(days=mid - 1)).isoformat(),
                                            "date_to": end.isoformat()}, scope)
            if count(pq.filter, scope) >= rows:
                hi = mid
            else:
                lo = mid + 1
        pq = query_export.parse_filter({"date_from": (end - dt.timedelta(days=lo - 1)).isoformat(),
                                        "date_to": end.isoformat()}, scope)
        expected = count(pq.filter, scope)
        db.session.rollback()
        fd, path = tempfile.mkstemp(suffix=".xlsx")
        os.close(fd)
        try:
            if trace:
                import tracemalloc

                tracemalloc.start()
            sampler = RssSampler()
            start = time.perf_counter()
            written = query_export.write_export(path, pq, scope, user)
            seconds = time.perf_counter() - start
            rss_before, rss_peak = sampler.stop()
            max_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
            peak = tracemalloc.get_traced_memory()[1] if trace else None
            size = os.path.getsize(path)
        finally:
            os.unlink(path)
    mb = 2 ** 20
    print(json.dumps({"rows": written, "expected": expected, "seconds": seconds, "filter": pq.describe(),
                      "rss_before_mb": rss_before / mb, "rss_peak_mb": rss_peak / mb, "max_rss_mb": max_rss / mb,
                      "rss_growth_mb": (rss_peak - rss_before) / mb, "size_mb": size / mb,
                      "tracemalloc_peak_mb": peak / mb if peak is not None else None}))


def run_export(url: str, username: str, year: int, rows: int, no_prepare: bool) -> dict:
    out = {}
    for trace in (False, True):
        cmd = [sys.executable, os.path.abspath(__file__), "--database-url", url, "--export-child", username,
               "--year", str(year), "--export-rows", str(rows)] + (["--trace"] if trace else []) + (
            ["--no-prepare"] if no_prepare else [])
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode or not lines:
            print(done.stderr[-3000:], file=sys.stderr)
            raise SystemExit(f"the export subprocess failed ({done.returncode})")
        result = json.loads(lines[-1])
        if trace:
            out["tracemalloc_peak_mb"] = result["tracemalloc_peak_mb"]
            out["seconds_traced"] = result["seconds"]
        else:
            out.update(result)
    print(f"  {out['rows']:,} rows ({out['filter']}) in {out['seconds']:.2f} s, {out['size_mb']:.1f} MB file; "
          f"RSS {out['rss_before_mb']:.0f} MB before, {out['rss_peak_mb']:.0f} MB at the peak "
          f"(+{out['rss_growth_mb']:.0f} MB; the process's lifetime maximum {out['max_rss_mb']:.0f} MB); "
          f"tracemalloc peak {out['tracemalloc_peak_mb']:.1f} MB", flush=True)
    return out


# ---- the summary --------------------------------------------------------------------------------------------

def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def summary(lists, stats, export) -> bool:
    lines, ok_all = [], True

    def add(figure, value, target, ok):
        nonlocal ok_all
        ok_all &= ok
        lines.append(f"{figure:<58}{value:>22}  {target:<18}{verdict(ok)}")

    if lists:
        for row in lists:
            r = row["CaseView"]
            name = f"list {row['user']}, {row['size']}/page, {row['where']}"
            add(name + ": p95", f"{r['p95']:.1f} ms", f"≤ {TARGETS['p95_ms']} ms", r["p95"] <= TARGETS["p95_ms"])
            add("   × plain ModelView (median)", f"{row['ratio']:.2f}", f"≤ {TARGETS['ratio']}",
                row["ratio"] <= TARGETS["ratio"])
        by_page = collections.defaultdict(dict)
        for row in lists:
            by_page[(row["user"], row["where"].startswith("page 1"))][row["size"]] = row["CaseView"]
        for (user, first), sizes in by_page.items():
            counts = [sizes[s]["statements"] for s in PAGE_SIZES]
            kinds = ", ".join(f"{k} {v}" for k, v in sorted(sizes[PAGE_SIZES[-1]]["kinds"].items()))
            add(f"statements {user}, {'page 1' if first else 'deep page'} ({kinds})",
                " / ".join(map(str, counts)) + f" at {'/'.join(map(str, PAGE_SIZES))}",
                f"≤ {TARGETS['statements']}, equal",
                max(counts) <= TARGETS["statements"] and len(set(counts)) == 1)
    if stats:
        for label, r in stats.items():
            add(f"statistics {label} ({r['cases']:,} cases, {r['rows']} rows)", f"{r['median']:.2f} s",
                f"≤ {TARGETS['stats_s']:g} s", r["median"] <= TARGETS["stats_s"])
    if export:
        add(f"export {export['rows']:,} rows: seconds", f"{export['seconds']:.2f} s", f"≤ {TARGETS['export_s']:g} s",
            export["seconds"] <= TARGETS["export_s"])
        add("export: peak RSS growth (tracemalloc peak)",
            f"{export['rss_growth_mb']:.0f} MB ({export['tracemalloc_peak_mb']:.0f})", f"≤ {TARGETS['export_mb']} MB",
            export["rss_growth_mb"] <= TARGETS["export_mb"])
    print(f"\n{'figure':<58}{'value':>22}  {'target':<18}")
    print("\n".join(lines))
    return ok_all


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--repeat", type=int, default=30, help="requests per page")
    parser.add_argument("--stat-repeat", type=int, default=3)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--year", type=int, default=dt.date.today().year - 1, help="the statistics' calendar year")
    parser.add_argument("--only", default="list,stats,export")
    parser.add_argument("--explain", action="store_true")
    parser.add_argument("--no-prepare", action="store_true",
                        help="what if: the engine never prepares statements (psycopg prepare_threshold=None)")
    parser.add_argument("--min-cases", type=int, default=1_000_000,
                        help="fail unless the data set holds at least this many current cases")
    parser.add_argument("--export-child", help=argparse.SUPPRESS)
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    url = args.database_url.replace("postgresql+psycopg://", "postgresql://")
    if args.export_child:
        return export_child(url, args.export_child, args.year, args.export_rows, args.trace, args.no_prepare)
    parts = set(args.only.split(","))
    require_data_set(url, args.min_cases)

    app = make_app(url, args.no_prepare)
    if args.no_prepare:
        print("what if: SQLALCHEMY_ENGINE_OPTIONS connect_args prepare_threshold=None (no server-side prepares)")
    from sqlalchemy import text

    from app.extensions import db

    with app.app_context():
        sizes = db.session.execute(text("SELECT (SELECT count(*) FROM cadre_case), (SELECT count(*) FROM unit), "
                                        "(SELECT count(*) FROM case_publicity)")).one()
        print(f"{sizes[0]:,} cases, {sizes[1]:,} units ({sizes[2]:,} publicity rows); PostgreSQL "
              f"{db.session.execute(text('SHOW server_version')).scalar()}; {os.cpu_count()} CPUs, load average "
              f"{os.getloadavg()[0]:.1f}", flush=True)
        recorder = StatementLog(db.engine)
        db.session.remove()
    users = bench_users(app)
    lists = stats = export = None
    if "list" in parts:
        print(f"\ncase list, {args.repeat} requests per page:")
        lists = list_pages(app, users, args.repeat, recorder, args.explain)
    if "stats" in parts:
        print(f"\nstatistics, {args.year}, all units, Scope('all'):")
        stats = run_statistics(app, args.year, args.stat_repeat, recorder, args.explain)
    if "export" in parts:
        print(f"\nexport of about {args.export_rows:,} cases as {users['root supervisor'][0]}:")
        export = run_export(url, users["root supervisor"][0], args.year, args.export_rows, args.no_prepare)
    ok = summary(lists, stats, export)
    print(f"load average at the end {os.getloadavg()[0]:.1f} (other work on the machine inflates the times, "
          f"not the ratios)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
