"""Working days: statutory holidays and 调休 working weekends.

The table comes from the ``chinese-calendar`` package (2004 up to the last year it knows) and
from the holiday table admins edit for later years. A year neither knows is *missing*: counting
in it falls back to Monday–Friday and records the year in ``missing_years`` so that the engine
raises a yellow data warning instead of counting silently.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

import chinese_calendar


@lru_cache(maxsize=1)
def package_years() -> frozenset[int]:
    years = {d.year for d in chinese_calendar.holidays} | {d.year for d in chinese_calendar.workdays}
    return frozenset(years)


def package_days(year: int) -> dict[dt.date, bool]:
    """{date: is_working_day} for the days that differ from Monday–Friday in that year."""
    out = {}
    for day, _name in chinese_calendar.holidays.items():
        if day.year == year and day.weekday() < 5:
            out[day] = False
    for day, _name in chinese_calendar.workdays.items():
        if day.year == year and day.weekday() >= 5:
            out[day] = True
    return out


@dataclass
class WorkCalendar:
    """``special`` maps a date to True (working, e.g. a 调休 Saturday) or False (holiday)."""

    special: dict = field(default_factory=dict)
    known_years: set = field(default_factory=set)
    missing_years: set = field(default_factory=set)

    @classmethod
    def from_package(cls, extra: dict | None = None, extra_years=()) -> "WorkCalendar":
        special, years = {}, set(package_years()) | set(extra_years)
        for year in package_years():
            special.update(package_days(year))
        special.update(extra or {})
        return cls(special, years)

    def is_working_day(self, day: dt.date) -> bool:
        if day.year not in self.known_years:
            self.missing_years.add(day.year)
        if day in self.special:
            return self.special[day]
        return day.weekday() < 5

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days from start to end, both included (0 when end < start)."""
        if end < start:
            return 0
        n, day = 0, start
        while day <= end:
            n += self.is_working_day(day)
            day += dt.timedelta(days=1)
        return n

    def add_working_days(self, start: dt.date, n: int) -> dt.date:
        """The n-th working day after start (start itself not counted)."""
        day, left = start, n
        while left > 0:
            day += dt.timedelta(days=1)
            left -= self.is_working_day(day)
        return day


@lru_cache(maxsize=1)
def _package_calendar() -> WorkCalendar:
    return WorkCalendar.from_package()


def default_calendar() -> WorkCalendar:
    """The package's calendar (a fresh copy, so missing years are tracked per evaluation)."""
    base = _package_calendar()
    return WorkCalendar(dict(base.special), set(base.known_years))  # callers add rows: never share the cache
