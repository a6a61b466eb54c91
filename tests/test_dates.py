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
