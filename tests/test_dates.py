"""app/dates.py: the one module of month and period arithmetic (working days: test_rule_engine)."""
import datetime as dt

import pytest

from app import dates

D = dt.date


@pytest.mark.parametrize("day, months, expected", [
    (D(2026, 1, 31), 1, D(2026, 2, 28)), (D(2024, 1, 31), 1, D(2024, 2, 29)), (D(2026, 3, 15), -3, D(2025, 12, 15)),
    (D(2026, 12, 1), 1, D(2027, 1, 1)), (D(2026, 5, 31), 12 * 5, D(2031, 5, 31)),
])
def test_add_months_keeps_the_day_and_clamps_to_the_month_end(day, months, expected):
    assert dates.add_months(day, months) == expected


def test_months_and_years_count_only_whole_ones():
    assert dates.months_between(D(2025, 3, 15), D(2026, 3, 14)) == 11
    assert dates.months_between(D(2025, 3, 15), D(2026, 3, 15)) == 12
    assert dates.full_years(D(1990, 6, 2), D(2026, 6, 1)) == 35
    assert dates.full_years(D(1990, 6, 2), D(2026, 6, 2)) == 36


def test_periods_are_first_and_last_day():
    assert dates.month_of(D(2024, 2, 10)) == (D(2024, 2, 1), D(2024, 2, 29))
    assert dates.quarter_of(D(2026, 11, 27)) == (D(2026, 10, 1), D(2026, 12, 31))
    assert dates.last_quarter(D(2026, 2, 1)) == (D(2025, 10, 1), D(2025, 12, 31))
    assert dates.last_month(D(2026, 1, 5)) == (D(2025, 12, 1), D(2025, 12, 31))
    assert dates.year_of(D(2026, 7, 7)) == (D(2026, 1, 1), D(2026, 12, 31))


@pytest.mark.parametrize("key, by, expected", [
    ("2026-02", "month", (D(2026, 2, 1), D(2026, 2, 28))), ("2026-12", "month", (D(2026, 12, 1), D(2026, 12, 31))),
    ("2026-Q4", "quarter", (D(2026, 10, 1), D(2026, 12, 31))), ("2026-Q1", "quarter", (D(2026, 1, 1), D(2026, 3, 31))),
    ("2026", "year", (D(2026, 1, 1), D(2026, 12, 31))),
])
def test_statistics_period_keys_have_bounds(key, by, expected):
    assert dates.period_bounds(key, by) == expected


def test_month_keys_stop_at_the_limit():
    assert dates.month_keys(D(2025, 11, 20), D(2026, 2, 1), 24) == ["2025-11", "2025-12", "2026-01", "2026-02"]
    assert len(dates.month_keys(D(2020, 1, 1), D(2026, 1, 1), 24)) == 24


# ---- working days: the arithmetic against a walk over every day -----------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _walk_between(cal, start, end):
    n, day = 0, start
    while day <= end:
        n += cal.is_working_day(day)
        day += dt.timedelta(days=1)
    return n


def _walk_add(cal, start, n):
    day, left = start, n
    while left > 0:
        day += dt.timedelta(days=1)
        left -= cal.is_working_day(day)
    return day


def _calendar(extra):
    cal = dates.default_calendar()
    cal.working_days_between(dt.date(2020, 1, 1), dt.date(2020, 1, 9))  # sorts the special days once
    cal.special.update(extra)  # an admin's rows, added after the first use: sorted again
    return cal


DAYS = st.dates(dt.date(2015, 1, 1), dt.date(2032, 12, 31))
EXTRA = st.dictionaries(DAYS, st.booleans(), max_size=6)


@settings(max_examples=300, deadline=None)
@given(DAYS, st.integers(-10, 800), EXTRA)
def test_working_days_between_counts_like_a_walk(start, span, extra):
    end = start + dt.timedelta(days=span)
    fast, slow = _calendar(extra), _calendar(extra)
    assert fast.working_days_between(start, end) == _walk_between(slow, start, end)
    assert fast.missing_years == slow.missing_years  # a year the calendar does not know is noted either way


@settings(max_examples=300, deadline=None)
@given(DAYS, st.integers(-3, 400), EXTRA)
def test_add_working_days_lands_where_a_walk_lands(start, n, extra):
    fast, slow = _calendar(extra), _calendar(extra)
    assert fast.add_working_days(start, n) == _walk_add(slow, start, n)


def test_add_working_days_around_the_national_day_week():
    cal = dates.default_calendar()
    # 2024: 10-01..07 are holidays, Saturday 10-12 is a 调休 working day.
    assert cal.add_working_days(dt.date(2024, 9, 30), 1) == dt.date(2024, 10, 8)  # walks forward past the week
    # From Friday 10-11, five working days: 10-12 (Sat), 14, 15, 16, 17. The jump of one week (to 10-18) counts
    # six and steps back.
    assert cal.add_working_days(dt.date(2024, 10, 11), 5) == dt.date(2024, 10, 17)
