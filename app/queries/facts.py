"""Keeping the statistics fact table (app/models/facts.py) equal to what the cases say.

A fact row is computed in SQL from the statistics columns' own conditions (``facts_select``), never
in Python, so it says exactly what the drill-down list says. It is refreshed inside the transaction
that changes its case:

* every ORM write to a case, its module rows, its deadlines or its batch marks the case (an
  ``after_flush`` hook), and just before the commit the marked cases' rows are replaced
  (``before_commit``): a save, a new version, a signature, a light, a submission, a deletion;
* the set-based writers that bypass the ORM (the deadline scan) call ``refresh`` with the roots they
  changed.

``mismatches`` compares the table with a fresh computation (the test suite runs it after all its
tests, ``flask reports facts-verify`` on a live database); ``rebuild`` recomputes everything.
"""
from __future__ import annotations

from typing import Iterable

from sqlalchemy import Connection, case as sa_case, delete, false, func, inspect, insert, select, true, update

from app.extensions import db, listen_on_sessions
from app.models import MODULE_MODELS, Batch, Case, CaseDeadline
from app.models.facts import FACT_KEYS, CaseFact
from app.queries.cases import APPT, joined
from app.queries.columns import BY_KEY, FACT_EXTRA

PENDING_KEY = "jishi_case_facts"
CHUNK = 5000  # ids per statement: SQLite allows 32,766 bound parameters
_MODULE_CLASSES = tuple(MODULE_MODELS.values())


def fact_columns(keys=FACT_KEYS):
    by_key = {**BY_KEY, **{c.key: c for c in FACT_EXTRA}}
    return [by_key[key] for key in keys]


def facts_select(*where, keys=FACT_KEYS):
    """SELECT, for the current cases meeting ``where``, the fact row's values in CaseFact's column
    order (without ``batch_first``): each flag is its statistics column's condition, NULL as false."""
    cols = fact_columns(keys)
    needs = {"batch", "appt"}.union(*(c.needs for c in cols))
    stmt = select(Case.id, Case.root_id, Case.unit_id, Case.batch_id, Batch.decision_date,
                  APPT.appointment_doc_date,
                  *(sa_case((c.sql(), true()), else_=false()) for c in cols)).select_from(Case)
    return joined(stmt, needs).where(Case.is_current.is_(True), *where)


INSERT_COLUMNS = ("case_id", "root_id", "unit_id", "batch_id", "decision_date", "appointment_date", *FACT_KEYS)


def _chunks(ids: Iterable[int]):
    ids = sorted(set(i for i in ids if i is not None))
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]


def _mark_batch_first(session, batch_ids) -> None:
    """``batch_first`` for every row of these batches: true on the lowest case id of each (batch, unit)."""
    t = CaseFact.__table__
    firsts = select(func.min(t.c.case_id)).where(t.c.batch_id.in_(batch_ids)).group_by(t.c.batch_id, t.c.unit_id)
    # Two plain updates: an IN (subquery) inside SET is a per-row subplan once the ids outgrow work_mem.
    session.execute(update(t).where(t.c.batch_id.in_(batch_ids), t.c.batch_first.is_(True),
                                    t.c.case_id.not_in(firsts)).values(batch_first=False))
    session.execute(update(t).where(t.c.case_id.in_(firsts), t.c.batch_first.is_(False)).values(batch_first=True))


def refresh(*, case_ids: Iterable[int] = (), root_ids: Iterable[int] = (), batch_ids: Iterable[int] = (),
            session=None) -> int:
    """Replace the fact rows of these cases (any version: by their root), roots and batches with
    what the cases say now; returns the number of rows written. Part of the caller's transaction."""
    session = session or db.session
    roots = set(r for r in root_ids if r is not None)
    for chunk in _chunks(case_ids):
        roots.update(session.execute(select(Case.root_id).where(Case.id.in_(chunk))).scalars())
    for chunk in _chunks(batch_ids):
        roots.update(session.execute(select(Case.root_id).where(Case.batch_id.in_(chunk))).scalars())
    t = CaseFact.__table__
    written, batches = 0, set()
    for chunk in _chunks(roots):
        batches.update(session.execute(delete(t).where(t.c.root_id.in_(chunk)).returning(t.c.batch_id)).scalars())
        new = session.execute(insert(t).from_select(INSERT_COLUMNS, facts_select(Case.root_id.in_(chunk)))
                                 .returning(t.c.batch_id)).scalars().all()
        written += len(new)
        batches.update(new)
    for chunk in _chunks(batches):
        _mark_batch_first(session, chunk)
    return written


def rebuild(progress=None, session=None) -> int:
    """Recompute the whole table (a migration, ``flask reports facts-rebuild``) by ranges of case ids;
    ``progress(done, total)`` after each range. ``session`` may be a Connection (a migration): the
    flags its schema has are filled (0009 made the table before 0013 added ``green``)."""
    session = session or db.session
    t = CaseFact.__table__
    bind = session if isinstance(session, Connection) else session.connection()
    present = {c["name"] for c in inspect(bind).get_columns(t.name)}
    keys = [k for k in FACT_KEYS if k in present]
    columns = [*INSERT_COLUMNS[:len(INSERT_COLUMNS) - len(FACT_KEYS)], *keys]
    session.execute(delete(t))
    lo, hi = session.execute(select(func.min(Case.id), func.max(Case.id))).one()
    written = 0
    if lo is not None:
        step = 100_000
        for start in range(lo, hi + 1, step):
            session.execute(insert(t).from_select(columns, facts_select(Case.id.between(start, start + step - 1),
                                                                        keys=keys)))
            if progress:
                progress(min(hi, start + step - 1) - lo + 1, hi - lo + 1)
        firsts = select(func.min(t.c.case_id)).where(t.c.batch_id.is_not(None)).group_by(t.c.batch_id, t.c.unit_id)
        session.execute(update(t).where(t.c.case_id.in_(firsts)).values(batch_first=True))
        # (an INSERT … SELECT's row count is not reported by every driver)
        written = session.execute(select(func.count()).select_from(t)).scalar()
    return written


def mismatches(limit: int = 20) -> list[int]:
    """Case ids whose fact row differs from a fresh computation, or is missing, or is left over."""
    t = CaseFact.__table__
    stored = select(*(t.c[name] for name in INSERT_COLUMNS))
    fresh = facts_select()
    wrong = select(fresh.except_(stored).subquery().c[0]).union(
        select(stored.except_(fresh).subquery().c[0])).limit(limit)
    out = set(db.session.execute(wrong).scalars())
    # batch_first against the first case of each (batch, unit), as a join: ``case_id IN (…)`` inside
    # an expression is a subplan PostgreSQL runs once per row when the ids outgrow work_mem.
    firsts = (select(func.min(t.c.case_id).label("first")).where(t.c.batch_id.is_not(None))
              .group_by(t.c.batch_id, t.c.unit_id).subquery("firsts"))
    out.update(db.session.execute(
        select(t.c.case_id).select_from(t.outerjoin(firsts, firsts.c.first == t.c.case_id))
        .where(t.c.batch_first.is_(True) != firsts.c.first.is_not(None)).limit(limit)).scalars())
    return sorted(out)[:limit]


def differences(case_id: int) -> dict:
    """{column: (stored, fresh)} of one case's fact row — what ``mismatches`` found, spelled out."""
    t = CaseFact.__table__
    stored = db.session.execute(select(*(t.c[n] for n in INSERT_COLUMNS)).where(t.c.case_id == case_id)).first()
    fresh = db.session.execute(facts_select(Case.id == case_id)).first()
    if stored is None or fresh is None:
        return {"row": (stored is not None, fresh is not None)}
    return {n: (a, b) for n, a, b in zip(INSERT_COLUMNS, stored, fresh) if a != b}


def repair(limit: int = 10_000) -> list[int]:
    """Replace the rows ``mismatches`` finds (at most ``limit``); returns their case ids. Part of the
    caller's transaction. What can leave a row wrong: a write outside the application, or two
    transactions changing cases of one batch at the same moment (each sets 研究干部批次's first case
    without seeing the other's)."""
    bad = mismatches(limit)
    if bad:
        t = CaseFact.__table__
        for chunk in _chunks(bad):
            db.session.execute(delete(t).where(t.c.case_id.in_(chunk)))  # rows of cases gone or superseded
        refresh(case_ids=bad)
    return bad


# ---- the hooks ---------------------------------------------------------------------------------------

def _pending(session) -> dict:
    return session.info.setdefault(PENDING_KEY, {"cases": set(), "roots": set(), "batches": set()})


def _after_flush(session, _context) -> None:
    touched = [*session.new, *session.deleted, *(o for o in session.dirty if session.is_modified(o))]
    pending = None
    for obj in touched:
        if isinstance(obj, Case):
            pending = pending or _pending(session)
            pending["cases"].add(obj.id)
            pending["roots"].add(obj.root_id)
        elif isinstance(obj, _MODULE_CLASSES):
            pending = pending or _pending(session)
            pending["cases"].add(obj.case_id)
        elif isinstance(obj, CaseDeadline):
            pending = pending or _pending(session)
            pending["roots"].add(obj.root_id)
        elif isinstance(obj, Batch) and obj not in session.new:
            pending = pending or _pending(session)
            pending["batches"].add(obj.id)


def _before_commit(session) -> None:
    # The commit flushes only after this hook: flush first, so that what is still unflushed marks
    # its cases too (the flush is the one the commit would make).
    if session.new or session.dirty or session.deleted:
        session.flush()
    pending = session.info.pop(PENDING_KEY, None)
    if pending and any(pending.values()):
        refresh(case_ids=pending["cases"], root_ids=pending["roots"], batch_ids=pending["batches"], session=session)


def _after_rollback(session) -> None:
    session.info.pop(PENDING_KEY, None)


def init_hooks() -> None:
    """Keep each case's fact row in the transaction that changes the case."""
    listen_on_sessions(("after_flush", _after_flush), ("before_commit", _before_commit),
                       ("after_rollback", _after_rollback))
