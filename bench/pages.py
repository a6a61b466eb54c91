"""The pages users open, over HTTP, against the app served by gunicorn on the generated data set.

    .venv/bin/python bench/pages.py [--database-url postgresql://postgres@127.0.0.1:5432/jishi_bench]
                                    [--samples 50] [--export-samples 3] [--export-rows 100000] [--year 2025]
                                    [--workers 4] [--threads 2] [--users 1,10,50] [--seconds 30]
                                    [--min-cases 1000000]

Reads the database bench/generate.py made (exits 1 on an empty or short one; nothing is written but a
missing bench user and the audit rows the pages themselves write). Starts ``gunicorn -w WORKERS
--threads THREADS run:app`` on a free port of 127.0.0.1 (as ``make serve-prod``, with
``FAB_UPDATE_PERMS=False``, the login throttle off and ``JISHI_EXPORT_SYNC_MAX`` above the export's
rows so that the export is answered in the request instead of queued), logs in through the login
form as the admin, the province-root supervisor, a district supervisor and the clerk (填报员) of the
unit with the most cases, and times for each, one request at a time:

home page, case list page 1 and deep (offset ≈ half the user's cases, at most 50,000), a case page,
the statistics page of ``--year`` (the whole page: table, 同比 and the charts), the drill-down list of
its 调整干部总人数 (the link on the page), the patrol worklist, the alarms list — ``--samples`` each
after one warm-up: median, p95 (nearest rank: the ⌈0.95·n⌉-th of n sorted samples) and the ratio to
a trivial page (the login form, anonymous) timed in the same run; and the root supervisor's query
export of the last ≈``--export-rows`` cases of the year (``--export-samples``). A page a role may not
open (a redirect or 403 on the warm-up) is shown as such, not timed.

Then every page but the export, in random order, by 1, 10 and 50 concurrent users (a bounded thread
pool, each thread its own logged-in session, the four roles in turn) for ``--seconds`` each:
requests, throughput, p50/p95 and errors (anything but a 200, or no answer within 120 s).
Targets (issue 15): every page ≤ 1 s at one user (the statistics page ≤ 1 s, list pages ≤ 200 ms,
the export ≤ 10 s); no error under load. Exit 1 if a target or the error count fails.
"""
from __future__ import annotations

import argparse
import datetime as dt
import html
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import psycopg  # noqa: E402
import requests  # noqa: E402

from common import p95, require_data_set  # noqa: E402
from load import free_port, start_gunicorn, stop  # noqa: E402
from queries import MAX_DEEP_OFFSET, PASSWORD, bench_users  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/jishi_bench"
TIMEOUT = 120
LIST_TARGET, PAGE_TARGET, EXPORT_TARGET = 0.2, 1.0, 10.0
LIST_PAGES = ("case list page 1", "case list deep")


def login(base: str, username: str) -> requests.Session:
    s = requests.Session()
    form = s.get(f"{base}/login/", timeout=TIMEOUT).text
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form)
    resp = s.post(f"{base}/login/", data={"username": username, "password": PASSWORD,
                                          **({"csrf_token": token.group(1)} if token else {})},
                  timeout=TIMEOUT, allow_redirects=False)
    if resp.status_code != 302 or "/login" in resp.headers.get("Location", "/login"):
        raise SystemExit(f"FAILED: {username} could not log in ({resp.status_code})")
    return s


# ---- what each user opens ----------------------------------------------------------------------------

def clerk_user(url: str) -> tuple[str, int]:
    """The 填报员 of the unit with the most current cases: (username, unit id)."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT u.username, u.unit_id FROM ab_user u JOIN ab_user_role ur ON ur.user_id = u.id "
            "JOIN ab_role r ON r.id = ur.role_id AND r.name = '填报员' "
            "JOIN (SELECT unit_id, count(*) AS n FROM cadre_case WHERE is_current GROUP BY unit_id) c "
            "ON c.unit_id = u.unit_id WHERE u.active ORDER BY c.n DESC, u.id LIMIT 1").fetchone()
    if row is None:
        raise SystemExit("FAILED: no clerk (填报员) in the data set")
    return row[0], row[1]


def user_cases(url: str, path: str | None = None, unit_id: int | None = None) -> tuple[int, int]:
    """(current cases the user sees, the newest one's id): one unit, a subtree by path, or all."""
    if unit_id is not None:
        where, params = "c.unit_id = %s", [unit_id]
    elif path is not None:
        where, params = "n.path LIKE %s", [path + "%"]
    else:
        where, params = "true", []
    with psycopg.connect(url) as conn:
        return conn.execute(f"SELECT count(*), max(c.id) FROM cadre_case c JOIN unit n ON n.id = c.unit_id "
                            f"WHERE c.is_current AND {where}", params).fetchone()


def export_filter(url: str, year: int, rows: int) -> tuple[str, str, int]:
    """(date_from, date_to, cases): the last days of ``year`` holding at least ``rows`` decided cases."""
    with psycopg.connect(url) as conn:
        days = conn.execute("SELECT decision_date, count(*) FROM case_fact WHERE decision_date <= %s "
                            "GROUP BY 1 ORDER BY 1 DESC", (dt.date(year, 12, 31),)).fetchall()
    total = 0
    for day, n in days:
        total += n
        if total >= rows:
            return day.isoformat(), f"{year}-12-31", total
    raise SystemExit(f"FAILED: fewer than {rows:,} decided cases up to {year}-12-31")


def pages_of(cases: int, case_id: int, year: int) -> dict[str, str]:
    deep = min(MAX_DEEP_OFFSET, cases // 2) // 25
    return {
        "home": "/",
        "case list page 1": "/cases/list/",
        "case list deep": f"/cases/list/?page_CaseView={deep}",
        "case page": f"/cases/show/{case_id}",
        "statistics (year)": f"/statistics/?basis=decision&date_from={year}-01-01&date_to={year}-12-31&by=unit",
        "drill-down list": None,  # the statistics page's own link, read from it
        "patrol worklist": "/patrol/",
        "alarms list": "/alarms/list/",
    }


def drill_down(session: requests.Session, base: str, stats_path: str) -> str | None:
    body = session.get(base + stats_path, timeout=TIMEOUT).text
    links = [html.unescape(m) for m in re.findall(r'href="(/query/\?[^"]+)"', body)]
    people = [link for link in links if "col=people" in link]
    return (people or links or [None])[0]


# ---- one user at a time ------------------------------------------------------------------------------

def timed(session: requests.Session, base: str, path: str, n: int) -> dict:
    warm = session.get(base + path, timeout=TIMEOUT, allow_redirects=False)
    if warm.status_code != 200:
        return {"status": warm.status_code}
    samples, size = [], len(warm.content)
    for _ in range(n):
        start = time.perf_counter()
        resp = session.get(base + path, timeout=TIMEOUT, allow_redirects=False)
        samples.append(time.perf_counter() - start)
        if resp.status_code != 200:
            raise SystemExit(f"FAILED: {path} answered {resp.status_code} after 200 on the warm-up")
    return {"median": statistics.median(samples), "p95": p95(samples), "n": n, "kb": size / 1024}


def target(page: str) -> float:
    return EXPORT_TARGET if page.startswith("export") else LIST_TARGET if page in LIST_PAGES else PAGE_TARGET


# ---- concurrent users --------------------------------------------------------------------------------

def concurrent(base: str, plan: list[tuple[str, dict[str, str]]], users: int, seconds: float) -> dict:
    """``users`` threads, each logged in as the next role of ``plan``, opening its pages in random order
    until ``seconds`` have passed: every request's (page, seconds, HTTP status or the exception's name);
    the errors (anything but a 200) counted by page and status."""
    sessions = [(username, login(base, username), pages) for username, pages in
                (plan[i % len(plan)] for i in range(users))]
    results, lock = [], threading.Lock()
    until = time.perf_counter() + seconds

    def user(i: int) -> None:
        _username, session, pages = sessions[i]
        rng = random.Random(i)
        items = list(pages.items())
        while time.perf_counter() < until:
            page, path = rng.choice(items)
            start = time.perf_counter()
            try:
                status = session.get(base + path, timeout=TIMEOUT, allow_redirects=False).status_code
            except requests.RequestException as exc:
                status = type(exc).__name__  # no answer (a timeout, a reset connection)
            with lock:
                results.append((page, time.perf_counter() - start, status))

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=users) as pool:
        list(pool.map(user, range(users)))
    wall = time.perf_counter() - start
    times = [s for _, s, _ in results]
    by_page = {}
    for page, s, _ in results:
        by_page.setdefault(page, []).append(s)
    return {"users": users, "requests": len(results), "seconds": wall, "rps": len(results) / wall,
            "p50": statistics.median(times), "p95": p95(times), "errors": sum(s != 200 for _, _, s in results),
            "error_kinds": Counter(f"{page}: {s}" for page, _, s in results if s != 200),
            "page_p95": {page: (len(v), p95(v)) for page, v in by_page.items()}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--export-samples", type=int, default=3)
    parser.add_argument("--export-rows", type=int, default=100_000)
    parser.add_argument("--year", type=int, default=dt.date.today().year - 1)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--users", default="1,10,50")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--min-cases", type=int, default=1_000_000)
    parser.add_argument("--only", default="pages,export,load")
    args = parser.parse_args(argv)
    url = args.database_url.replace("postgresql+psycopg://", "postgresql://")
    parts = set(args.only.split(","))
    sizes = require_data_set(url, args.min_cases)

    import config
    from app import create_app

    app = create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=url, FAB_UPDATE_PERMS=False)
    users = {label: (username, path) for label, (username, path, _name) in bench_users(app).items()}
    clerk, clerk_unit = clerk_user(url)
    users["clerk"] = (clerk, None)
    scopes = {"admin": {}, "clerk": {"unit_id": clerk_unit}}
    date_from, date_to, export_cases = export_filter(url, args.year, args.export_rows)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    instance = tempfile.mkdtemp(prefix="jishi-pages-")
    print(f"{sizes['cadre_case']:,} cases, {sizes['unit']:,} units, {sizes['ab_user']:,} users; gunicorn -w "
          f"{args.workers} --threads {args.threads}; {os.cpu_count()} CPUs, load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    proc = start_gunicorn(url, port, args.workers, args.threads, instance,
                          {"JISHI_EXPORT_SYNC_MAX": str(args.export_rows * 2)})
    ok = True
    try:
        anonymous = requests.Session()
        trivial = timed(anonymous, base, "/login/", args.samples)
        print(f"\ntrivial page (/login/, anonymous): {trivial['median'] * 1000:.1f} ms median, "
              f"{trivial['p95'] * 1000:.1f} ms p95 ({args.samples} samples)", flush=True)
        plan = []
        if "pages" in parts:
            print(f"\n{'user':<21}{'page':<19}{'median ms':>10}{'p95 ms':>9}{'×trivial':>9}{'KB':>7}  target",
                  flush=True)
        for label, (username, path) in users.items():
            cases, case_id = user_cases(url, **scopes.get(label, {"path": path}))
            session = login(base, username)
            pages = pages_of(cases, case_id, args.year)
            pages["drill-down list"] = drill_down(session, base, pages["statistics (year)"])
            pages = {page: path for page, path in pages.items() if path}
            usable = {}
            for page, page_path in pages.items():
                if "pages" not in parts:
                    usable[page] = page_path
                    continue
                r = timed(session, base, page_path, args.samples)
                if "status" in r:
                    print(f"{label:<21}{page:<19}{'(' + str(r['status']) + ': not open to this role)':>35}",
                          flush=True)
                    continue
                usable[page] = page_path
                good = r["p95" if page in LIST_PAGES else "median"] <= target(page)
                ok &= good
                print(f"{label:<21}{page:<19}{r['median'] * 1000:>10.1f}{r['p95'] * 1000:>9.1f}"
                      f"{r['median'] / trivial['median']:>9.1f}{r['kb']:>7.0f}  "
                      f"{'PASS' if good else 'FAIL'} ≤ {target(page) * 1000:.0f} ms", flush=True)
            plan.append((username, usable))
            print(f"{'':<21}({cases:,} cases visible; load average {os.getloadavg()[0]:.1f})", flush=True)
        if "export" in parts:
            session = login(base, users["root supervisor"][0])
            path = f"/query/export.xlsx?date_from={date_from}&date_to={date_to}"
            samples = []
            for _ in range(args.export_samples):
                start = time.perf_counter()
                resp = session.get(base + path, timeout=TIMEOUT * 5)
                samples.append(time.perf_counter() - start)
                if resp.status_code != 200 or "spreadsheetml" not in resp.headers.get("Content-Type", ""):
                    raise SystemExit(f"FAILED: the export answered {resp.status_code} "
                                     f"{resp.headers.get('Content-Type')}")
            good = statistics.median(samples) <= EXPORT_TARGET
            ok &= good
            print(f"\nexport, root supervisor, {export_cases:,} cases ({date_from} – {date_to}): "
                  f"{statistics.median(samples):.1f} s median of {args.export_samples} "
                  f"({', '.join(f'{s:.1f}' for s in samples)}), {len(resp.content) / 2 ** 20:.1f} MB, "
                  f"{'PASS' if good else 'FAIL'} ≤ {EXPORT_TARGET:.0f} s; load average {os.getloadavg()[0]:.1f}",
                  flush=True)
        if "load" in parts:
            print(f"\nconcurrent users ({args.seconds:.0f} s each, every page but the export, random order; "
                  f"the four roles in turn):")
            print(f"{'users':>6}{'requests':>10}{'req/s':>8}{'p50 ms':>9}{'p95 ms':>9}{'errors':>8}  load average",
                  flush=True)
            for n in (int(x) for x in args.users.split(",")):
                r = concurrent(base, plan, n, args.seconds)
                ok &= r["errors"] == 0
                print(f"{n:>6}{r['requests']:>10,}{r['rps']:>8.1f}{r['p50'] * 1000:>9.0f}{r['p95'] * 1000:>9.0f}"
                      f"{r['errors']:>8}  {os.getloadavg()[0]:.1f}", flush=True)
                print("        p95 by page: " + ", ".join(f"{page} {s * 1000:.0f} ms (n={k})"
                                                      for page, (k, s) in sorted(r["page_p95"].items())),
                      flush=True)
                if r["error_kinds"]:
                    kinds = sorted(r["error_kinds"].items())
                    print("        errors: " + ", ".join(f"{kind} ×{k}" for kind, k in kinds), flush=True)
    finally:
        stop(proc)
    print(f"\n{'PASS' if ok else 'FAIL'}; load average at the end "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} (2-core machine; other work inflates the times, "
          f"less the ratios)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
