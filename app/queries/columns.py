"""The statistics table's columns (shared/spec/regulations.md C.1): each is a named SQL condition on
a current case, with the joins it reads. The table sums the condition; the drill-down lists the
cases meeting it — the same expression both times."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import and_, or_, true

from app.models import Case
from app.queries.cases import (
    AGE_BANDS,
    ALARM_AGG,
    APPT,
    CONS,
    D1,
    D2,
    INSP,
    MOTION,
    PARTY,
    PUB,
    QUAL,
    RECO,
    age_band_condition,
    highest_education,
)

SELECTION_TYPES = ("提拔", "进一步使用", "平级交流/转任", "职级晋升", "免职", "降职")
GRADES = ("厅局级正职", "厅局级副职", "县处级正职", "县处级副职", "乡科级正职", "乡科级副职")
METHODS = ("组织选拔", "竞争上岗", "公开选拔", "换届考察")

@dataclass(frozen=True)
class Col:
    key: str
    group: str
    label: str
    condition: Callable  # () -> SQL boolean
    needs: frozenset = frozenset()
    distinct_batches: bool = False  # 研究干部批次: counts meetings, not people

    def sql(self):
        return self.condition()


def _c(key, group, label, condition, *needs, **kw) -> Col:
    return Col(key, group, label, condition, frozenset(needs), **kw)


def _today():
    return dt.date.today()


COLUMNS: tuple[Col, ...] = (
    _c("batches", "总量", "研究干部批次", lambda: true(), "batch", distinct_batches=True),
    _c("people", "总量", "调整干部总人数", lambda: true()),
    *(_c(f"type_{i}", "任用类型", t, (lambda t=t: MOTION.selection_type == t), "motion")
      for i, t in enumerate(SELECTION_TYPES)),
    *(_c(f"grade_{i}", "职务层次", g, (lambda g=g: MOTION.target_grade == g), "motion") for i, g in enumerate(GRADES)),
    *(_c(f"method_{i}", "选拔方式", m, (lambda m=m: MOTION.selection_method == m), "motion")
      for i, m in enumerate(METHODS)),
    _c("breaking", "特殊情形", "破格提拔", lambda: MOTION.is_breaking_rule.is_(True), "motion"),
    _c("skip_level", "特殊情形", "越级提拔", lambda: MOTION.is_skip_level.is_(True), "motion"),
    _c("prior_report", "特殊情形", "事前报告件数", lambda: CONS.prior_report_required.is_(True), "cons"),
    _c("prior_agreed", "特殊情形", "其中：同意", lambda: and_(CONS.prior_report_required.is_(True),
                                                        CONS.prior_report_reply == "同意"), "cons"),
    _c("prior_refused", "特殊情形", "其中：不同意", lambda: and_(CONS.prior_report_required.is_(True),
                                                          CONS.prior_report_reply == "不同意"), "cons"),
    _c("over_quota", "特殊情形", "超职数", lambda: and_(MOTION.approved_quota.is_not(None),
                                                   MOTION.current_incumbents >= MOTION.approved_quota), "motion"),
    _c("female", "干部结构", "女干部", lambda: QUAL.sex == "女", "qual"),
    _c("minority", "干部结构", "少数民族", lambda: and_(QUAL.ethnicity.is_not(None), QUAL.ethnicity != "汉族"), "qual"),
    _c("non_party", "干部结构", "党外干部", lambda: and_(QUAL.political_status.is_not(None),
                                                   QUAL.political_status.not_in(PARTY)), "qual"),
    *(_c(f"age_{i}", "年龄（决定时）", band, (lambda band=band: age_band_condition(band)), "qual", "batch")
      for i, band in enumerate(AGE_BANDS)),
    _c("edu_grad", "学历", "研究生", lambda: highest_education() == "研究生", "qual"),
    _c("edu_bachelor", "学历", "大学本科", lambda: highest_education() == "大学本科", "qual"),
    _c("edu_lower", "学历", "专科及以下", lambda: highest_education() == "专科及以下", "qual"),
    _c("recommended", "程序", "经民主推荐", lambda: and_(RECO.recommendation_required.is_not(False), or_(
        RECO.talk_reco_date.is_not(None), RECO.meeting_reco_done.is_(True), RECO.reused_reco_date.is_not(None))), "reco"),
    _c("differential", "程序", "经差额考察", lambda: INSP.inspection_object_count > 1, "insp"),
    _c("publicized", "程序", "任前公示人数", lambda: PUB.publicity_start.is_not(None), "pub"),
    _c("complaints", "程序", "公示期间收到反映", lambda: PUB.complaints_count > 0, "pub"),
    _c("blocked", "程序", "反映影响任职", lambda: PUB.publicity_result == "影响任职", "pub"),
    _c("probation", "程序", "实行试用期", lambda: APPT.probation_applicable.is_(True), "appt"),
    _c("probation_failed", "程序", "试用期满不胜任", lambda: APPT.probation_review_result == "不胜任", "appt"),
    _c("due1", "纪实报送", "初次应报", lambda: D1.status.in_(("按时", "逾期", "未报")), "d1"),
    _c("ontime1", "纪实报送", "初次按时", lambda: D1.status == "按时", "d1"),
    _c("late1", "纪实报送", "初次逾期", lambda: D1.status == "逾期", "d1"),
    _c("missing1", "纪实报送", "初次未报", lambda: D1.status == "未报", "d1"),
    _c("due2", "纪实报送", "二次应报", lambda: D2.status.in_(("按时", "逾期", "未报")), "d2"),
    _c("ontime2", "纪实报送", "二次按时", lambda: D2.status == "按时", "d2"),
    _c("late2", "纪实报送", "二次逾期或未报", lambda: D2.status.in_(("逾期", "未报")), "d2"),
    _c("returned", "纪实报送", "退回补正件数", lambda: Case.version_no > 1),
    _c("red", "报警与整改", "红灯", lambda: Case.light == "红"),
    _c("yellow", "报警与整改", "黄灯", lambda: Case.light == "黄"),
    _c("correcting", "报警与整改", "整改中", lambda: and_(ALARM_AGG.c.halted == 1, ALARM_AGG.c.halted_due >= _today()),
       "alarms"),
    _c("correction_late", "报警与整改", "逾期未整改", lambda: and_(ALARM_AGG.c.halted == 1,
                                                             ALARM_AGG.c.halted_due < _today()), "alarms"),
    _c("corrected", "报警与整改", "已整改", lambda: ALARM_AGG.c.corrected == 1, "alarms"),
)
BY_KEY = {c.key: c for c in COLUMNS}
# Not a column of the table: the light chart counts it beside 红灯 and 黄灯, from the fact rows too.
GREEN = _c("green", "报警与整改", "绿灯", lambda: Case.light == "绿")
FACT_EXTRA = (GREEN,)

# Rates are shown in columns of their own, never mixed into a count (C.1).
RATES = (("rate1", "初次及时率", "ontime1", "due1"), ("rate2", "二次及时率", "ontime2", "due2"))


def groups() -> list[tuple[str, list[Col]]]:
    out: list[tuple[str, list[Col]]] = []
    for col in COLUMNS:
        if not out or out[-1][0] != col.group:
            out.append((col.group, []))
        out[-1][1].append(col)
    return out
