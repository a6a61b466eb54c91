"""app/display.py: values and names as people read them (issue 14, one language layer)."""
from __future__ import annotations

import datetime as dt
import decimal

from app import display


def test_none_and_booleans():
    assert display.shown(None) == ""
    assert display.shown(True) == "是" and display.shown(False) == "否"
    assert display.stored("None") == "" and display.stored(None) == "" and display.stored("") == ""
    assert display.stored("True") == "是" and display.stored("False") == "否"


def test_times_to_the_minute_in_shanghai():
    stored_utc = dt.datetime(2026, 1, 1, 16, 30, 59, 123456)  # naive UTC, as the database keeps it
    assert display.minute(stored_utc) == "2026-01-02 00:30"
    assert display.shown(stored_utc) == "2026-01-02 00:30"
    assert display.stored("2026-01-01T16:30:59.123456") == "2026-01-02 00:30"
    assert display.minute(None) == ""
    aware = dt.datetime(2026, 1, 1, 8, 0, tzinfo=dt.timezone.utc)
    assert display.minute(aware) == "2026-01-01 16:00"


def test_dates_in_tables_and_in_prose():
    assert display.table_date(dt.date(2026, 1, 1)) == "2026-01-01"
    assert display.prose_date(dt.date(2026, 1, 1)) == "2026年1月1日"
    assert display.prose_date("2026-10-08") == "2026年10月8日"
    assert display.prose_date(None) == ""
    assert display.stored("2026-01-01") == "2026-01-01"  # a date stays a date


def test_numbers_lists_and_mappings():
    assert display.shown(decimal.Decimal("0.50")) == "0.5"
    assert display.shown(3.0) == "3"
    assert display.shown(["甲", None, "乙"]) == "甲、乙"
    assert display.shown({"flagged": 2, "written": True, "as_of": "2026-12-05"}) == "新标记逾期：2；已写入：是；日期：2026-12-05"


def test_reprs_read_back_as_words():
    assert display.stored("{'as_of': '2026-12-05', 'flagged': 2, 'written': True}") == \
        "日期：2026-12-05；新标记逾期：2；已写入：是"
    assert display.stored('{"sent": 6, "red": 0}') == "新发送消息：6；转为红灯：0"
    assert display.stored("[]") == ""
    assert display.stored("{not python") == "{not python"  # text that only looks like one stays


def test_names_come_from_the_catalogue():
    from app.spec import items_by_key, modules

    motion = next(m for m in modules() if m.key == "motion")
    assert display.table_label("case_motion") == motion.name
    assert display.module_label("signature") == next(m.name for m in modules() if m.key == "signature")
    assert display.field_label("nominee_list") == items_by_key()["nominee_list"].label
    assert display.field_label("completed_at", "case_motion") == "完成时间"
    assert display.field_label("name", "calendar_day") == "节日名称"
    assert display.table_label("no_such_table") == "其他记录"
    assert display.field_label("no_such_column") == "其他字段"
    assert display.audit_value("nominee_list", "item_key") == items_by_key()["nominee_list"].label
    assert display.audit_value("calendar", "day_type") == "自然日"


def test_every_audited_column_has_a_name():
    """A column added to an audited table without a Chinese name would show as 其他字段: name it."""
    from flask_appbuilder import Model

    unnamed = []
    for mapper in Model.registry.mappers:
        if not hasattr(mapper.class_, "audit_unit_id"):
            continue
        table = mapper.persist_selectable
        assert display.table_label(table.name) != "其他记录", table.name
        for column in table.columns:
            if display.field_label(column.name, table.name) == "其他字段":
                unnamed.append(f"{table.name}.{column.name}")
    assert unnamed == []


def test_holidays_by_their_names():
    from app.dates import holiday_name

    assert holiday_name(dt.date(2026, 2, 17), False) == "春节"
    assert holiday_name(dt.date(2026, 10, 1), False) == "国庆节"
    assert holiday_name(dt.date(2026, 2, 14), True) == "春节调休上班"


def test_a_custom_rules_status_reads_in_chinese_in_the_trail():
    """The trail stores the status code (draft, enabled …): it shows the words the rule pages use."""
    from app.models.custom_rules import CUSTOM_STATUSES

    for code, words in CUSTOM_STATUSES.items():
        assert display.audit_value(code, "status") == words


def test_coded_kinds_read_in_chinese_in_the_trail():
    """A report schedule's kind (monthly, quarterly) and a spot check's method are stored as codes; the
    trail shows the words the pages use (found by the home-page walk over the full suite's data)."""
    from app.reporting.scheduled import KINDS

    for code, words in KINDS.items():
        assert display.audit_value(code, "kind") == words
    assert display.audit_value("rate", "method") == "按比例"


def test_a_task_runs_counts_name_their_kind_in_words():
    from app.views.notifications import _counts

    assert _counts({"kind": "quarterly", "created": 2, "case_ids": [1, 2]}) == display.shown({"kind": "季报", "created": 2})
