"""What the benchmarks share: the statements the app runs while recording, and one statement on a line."""
from __future__ import annotations

import math
import re
import time
from typing import NamedTuple

from sqlalchemy import event


class Statement(NamedTuple):
    seconds: float
    statement: str
    parameters: object
    executemany: bool


class StatementLog:
    """Every statement the engine runs between ``start()`` and ``stop()``, with its parameters and seconds."""

    def __init__(self, engine):
        self.active, self.rows = False, []
        event.listen(engine, "before_cursor_execute", self._before)
        event.listen(engine, "after_cursor_execute", self._after)

    def _before(self, conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_start"] = time.perf_counter()

    def _after(self, conn, cursor, statement, parameters, context, executemany):
        if self.active:
            self.rows.append(Statement(time.perf_counter() - conn.info.pop("bench_start"), statement, parameters,
                                       executemany))

    def start(self) -> None:
        self.rows, self.active = [], True

    def stop(self) -> list[Statement]:
        self.active = False
        return list(self.rows)


def p95(samples: list[float]) -> float:
    """The 95th percentile by nearest rank: the ⌈0.95·n⌉-th of the n samples sorted (the 29th of 30, the
    48th of 50), never an interpolation below the slow tail."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def slowest(statements: list[Statement], n: int = 3) -> list[Statement]:
    return sorted(statements, key=lambda s: -s.seconds)[:n]


def short(statement: str, width: int = 120, parameters=None) -> str:
    """One line; for an INSERT … SELECT, what it selects (the notice kind is its first parameter)."""
    one = re.sub(r"\s+", " ", statement).strip()
    if isinstance(parameters, dict) and isinstance(parameters.get("param_1"), str):
        one = f"[{parameters['param_1']}] {one}"
    return one if len(one) <= width else one[:width - 1] + "…"


class ShortDataSet(SystemExit):
    """The data set a benchmark relies on is missing or short: it must not report figures over it."""


def require_data_set(url: str, cases: int) -> dict[str, int]:
    """The row counts of the generated data set at ``url`` (a psycopg URL); exits non-zero unless it
    holds at least ``cases`` current cases, units, users and a statistics fact row per current case."""
    import psycopg

    names = ("unit", "ab_user", "cadre_case", "case_fact", "case_deadline")
    try:
        with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://")) as conn:
            count = dict(zip(names, conn.execute(
                "SELECT (SELECT count(*) FROM unit), (SELECT count(*) FROM ab_user), "
                "(SELECT count(*) FROM cadre_case WHERE is_current), (SELECT count(*) FROM case_fact), "
                "(SELECT count(*) FROM case_deadline)").fetchone()))
    except psycopg.Error as exc:  # no such database, no schema
        raise ShortDataSet(f"FAILED: no generated data set at {url}: {str(exc).splitlines()[0]}")
    if count["cadre_case"] < max(cases, 1) or not count["unit"] or not count["ab_user"] \
            or count["case_fact"] != count["cadre_case"]:
        raise ShortDataSet(f"FAILED: the data set is empty or short ({', '.join(f'{k} {v:,}' for k, v in count.items())}; "
                           f"at least {cases:,} current cases and a case_fact row each expected): run bench/generate.py")
    return count


def recreate_database(url: str, owner: str) -> None:
    """Drop and create the PostgreSQL database of ``url`` for the benchmark ``owner`` (a script's name),
    which marks it as its own (COMMENT ON DATABASE). Refused unless the name contains "bench", and for a
    database that holds units but was made by another script (or by hand): one benchmark must not
    destroy another's data set (bench/scope.py once dropped the 1,000,000-case ``jishi_bench``)."""
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    server, name = plain.rsplit("/", 1)
    if "bench" not in name:
        raise SystemExit(f"refusing to drop database {name!r}: its name must contain 'bench'")
    mark = f"jishi bench: {owner}"
    with psycopg.connect(server + "/postgres", autocommit=True) as conn:
        found = conn.execute("SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
                             (name,)).fetchone()
        if found is not None and found[0] != mark:
            # Another benchmark's, even while it is still filling it (its rows are not committed yet),
            # or one made by hand that holds units.
            if found[0] or _units(plain):
                made_by = repr(found[0]) if found[0] else "hand (no mark) and holds units"
                raise SystemExit(f"refusing to drop database {name!r}: it is marked {made_by}, not "
                                 f"{mark!r}; give this benchmark its own --database-url")
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
        conn.execute(f"COMMENT ON DATABASE \"{name}\" IS '{mark}'")


def _units(url: str) -> int:
    """Units in the database at ``url`` (0 without the schema)."""
    import psycopg

    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass('unit')").fetchone()[0] is None:
            return 0
        return conn.execute("SELECT count(*) FROM unit").fetchone()[0]
