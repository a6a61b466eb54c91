"""The tests' own clock (tests/clock.py): a run never crosses midnight."""
import datetime as dt

from tests.clock import HORIZON, clock_start


def test_a_run_that_ends_on_its_day_keeps_the_real_clock():
    assert clock_start(dt.datetime(2026, 12, 5, 10, 0)) is None
    assert clock_start(dt.datetime(2026, 12, 5, 23, 59, 59) - HORIZON) is None


def test_a_run_that_could_cross_midnight_starts_after_it():
    start = clock_start(dt.datetime(2026, 12, 5, 23, 58, 50))
    assert start.date() == dt.date(2026, 12, 6) and (start + HORIZON).date() == start.date()
    assert clock_start(dt.datetime(2026, 12, 31, 23, 0)).date() == dt.date(2027, 1, 1)
