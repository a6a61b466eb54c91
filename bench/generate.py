"""Fill a PostgreSQL database with a realistic 记实 data set, fast: COPY, not the ORM.

    .venv/bin/python bench/generate.py [--database-url postgresql://postgres@127.0.0.1:5432/jishi_bench]
                                       [--units 10000] [--cases 1000000] [--seed 1] [--today 2026-12-01]
                                       [--add-modules]

The command drops and re-creates the database (its name must contain "bench"; one another benchmark
filled is refused: bench/common.py ``recreate_database``), builds the schema
with the app's migrations, starts the app once so that FAB syncs the roles, then fills it.
``generate(conn, units=…, cases=…, seed=…)`` does the filling alone, on any freshly migrated
database whose roles exist (other benchmarks reuse it). The same seed and ``today`` give the same data.

What it makes, for N units and M cases:

* a tree: the province's organisation department → provincial bureaus and cities (市委 → 市委组织部
  → city bureaus and districts (区委 → 区委组织部 → district units and their sub-units)), with
  materialised paths and levels, types, grades and authorities from app/enums.py;
* a clerk (填报员) per unit with appointment authority, a supervisor (监督员) per organisation
  department, one admin (系统管理员); every password is Bench-Passw0rd;
* batches (one decision meeting each, 1–15 cases) with decision dates spread over the last two
  years (a few percent not decided yet: drafts), and M current cases (version 1) with their
  qualification, motion, appointment and submission module rows;
* the procedure modules the statistics read: recommendation (民主推荐), inspection (考察),
  consultation (酝酿), decision (讨论决定, the per-case part) and publicity (公示), one row per case, with
  dates in procedure order before (and publicity after) the decision date, and the usual shares:
  民主推荐 for 提拔/进一步使用, ≈25 % 差额考察, ≈3 % 事前报告, ≈8 % 公示期间有反映 (see ``add_modules``);
* case_deadline rows for node 1 (decision date + 5 days) and node 2 (appointment document date +
  5 days, once appointed) as ``refresh()`` leaves them before any scan: reported nodes 按时 or 逾期
  (≈3 % late) with their days late, unreported ones 未到期. The unreported nodes are the last few
  days' cases plus ≈0.05 % never reported: a few thousand due soon or overdue, at 1,000,000 cases.
  Cases with an unreported node are never red (so a reset to "never scanned" is exact).

Not generated: persons, attachments, the nomination and signature module tables, signatures,
submission records (the evidence chain: refresh() would find no submission) and rule evaluations.

``--add-modules`` fills only the procedure modules into an existing generated database (replacing
what they hold): the tree and the cases are planned again from the same ``--seed``/``--units``/
``--cases`` and ``--today`` (default: the latest decision date in the database, which is the day it
was generated), checked against the database, and the modules written — the same rows a full
generation makes.
"""
from __future__ import annotations

import argparse
import datetime as dt
import itertools
import os
import random
import sys
import time
from dataclasses import dataclass

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import psycopg  # noqa: E402
from psycopg.copy import QueuedLibpqWriter  # noqa: E402

from common import recreate_database  # noqa: E402

from app.enums import GRADES  # noqa: E402
from app.idnumber import id_check_char  # noqa: E402
from app.spec import ETHNICITIES  # noqa: E402

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/jishi_bench"
PASSWORD = "Bench-Passw0rd"
FIRST_DAYS = SECOND_DAYS = 5  # T01 / T02 defaults, calendar days
P_NEVER, P_LATE, P_APPOINTED, P_UNDECIDED = 0.0005, 0.03, 0.96, 0.03
ON_TIME = (0, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4, 5)  # days after the anchor, when reported on time

CITY_NAMES = "江城 云州 临川 白沙 青阳 南平 丰泽 安澜 石门 金溪 长宁 清河 东阳 北岭 宁远 西塘".split()
DISTRICT_NAMES = "城关区 新城区 东湖区 西山区 南港区 北塘区 高新区 经开区 临江县 永安县".split()
BUREAUS = [("纪委监委", "纪委监委"), ("委办公室", "党委"), ("委宣传部", "党委"), ("委统战部", "党委"),
           ("委政法委", "党委"), ("人民法院", "法院"), ("人民检察院", "检察院"), ("公安局", "公安"),
           ("政府办公室", "政府"), ("发展和改革局", "政府"), ("教育局", "政府"), ("科学技术局", "政府"),
           ("民政局", "政府"), ("司法局", "政府"), ("财政局", "政府"), ("人力资源和社会保障局", "政府"),
           ("自然资源局", "政府"), ("生态环境局", "政府"), ("住房和城乡建设局", "政府"), ("交通运输局", "政府"),
           ("水利局", "政府"), ("农业农村局", "政府"), ("商务局", "政府"), ("文化和旅游局", "政府"),
           ("卫生健康局", "政府"), ("退役军人事务局", "政府"), ("应急管理局", "政府"), ("审计局", "政府"),
           ("市场监督管理局", "政府"), ("统计局", "政府")]
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国志文斌海波宁辉鹏飞鑫晨旭东雪梅琳颖浩宇")
PLACES = ["浙江杭州", "浙江宁波", "江苏南京", "江苏苏州", "安徽合肥", "江西南昌", "湖北武汉", "湖南长沙", "山东济南",
          "河南郑州", "福建福州", "四川成都", "广东广州", "河北石家庄", "山西太原", "陕西西安"]


def pool(**weights) -> tuple:
    """A tuple to ``rng.choice`` from, each value repeated by its weight (keyword names are the values)."""
    return tuple(v for v, w in weights.items() for _ in range(w))


EDUCATION = pool(大学本科=60, 研究生=20, 大学专科=15, **{"高中/中专": 5})
POLITICAL = pool(中共党员=88, 中共预备党员=1, 中国民主同盟盟员=2, 九三学社社员=1, 中国民主促进会会员=1, 无党派人士=2, 群众=5)
APPRAISAL = pool(称职=70, 优秀=28, 基本称职=2)
SELECTION_TYPE = pool(提拔=60, 进一步使用=15, **{"平级交流/转任": 15}, 职级晋升=7, 免职=2, 降职=1)
SELECTION_METHOD = pool(组织选拔=80, 竞争上岗=12, 公开选拔=3, 换届考察=5)
REVIEW = pool(通过=85, 黄灯提示=8, 红灯预警=2, 待审=5)
REASONS = ("职位空缺", "领导班子结构调整", "工作需要", "换届调整", "干部交流轮岗")
POST_KIND = {"委办局": "政府工作部门领导成员", "乡镇街道": "乡镇(街道)党政领导班子成员", "事业单位": "事业单位领导人员",
             "国有企业": "国有企业领导人员", "区县": "县(市、区)党政领导班子成员", "市": "党委工作部门领导成员",
             "省": "党委工作部门领导成员", "其他": "机关内设机构领导职务"}
POST_TITLE = {"乡科级副职": "副科长", "乡科级正职": "科长", "县处级副职": "副处长", "县处级正职": "处长",
              "厅局级副职": "副局长", "厅局级正职": "局长"}
IDENTITY = {"事业单位": "事业单位管理人员", "国有企业": "国有企业管理人员"}


# ---- the tree and the users --------------------------------------------------------------------

@dataclass(eq=False)
class Unit:
    id: int
    code: str
    name: str
    parent: "Unit | None"
    level: str
    unit_type: str
    region: str
    max_grade: str
    authority: str
    supervised: bool = False  # an organisation department: gets a 监督员
    clerk: int | None = None  # its 填报员's user id

    @property
    def path(self) -> str:
        return (self.parent.path if self.parent else "/") + self.code + "/"


def build_tree(n: int, rng: random.Random) -> list[Unit]:
    """``n`` units (at least the ~650 of the fixed part): 12 cities of 10 districts at 10,000."""
    units: list[Unit] = []

    def add(code, name, parent, level, unit_type, grade, authority, region, supervised=False):
        units.append(Unit(len(units) + 1, code, name, parent, level, unit_type, region, grade, authority, supervised))
        return units[-1]

    cities = max(1, min(len(CITY_NAMES) * 6, n // 800))
    per_city = 10 if n >= 2000 else max(1, n // 250)
    bureaus = BUREAUS[:max(1, n // 300)]
    root = add("P", "中共江南省委组织部", None, "省", "组织部", "厅局级正职", "处级任免权", "330000", True)
    for i, (name, kind) in enumerate(bureaus, 1):
        add(f"P-B{i:02d}", f"江南省{name}", root, "委办局", kind, "厅局级副职", "处级任免权", "330000")
    districts = []  # (organisation department, district name)
    for c in range(1, cities + 1):
        cname = CITY_NAMES[(c - 1) % len(CITY_NAMES)] + ("" if c <= len(CITY_NAMES) else str(c))
        ccode, region = f"C{c:02d}", f"33{c:02d}00"
        committee = add(ccode, f"中共{cname}市委员会", root, "市", "党委", "厅局级正职", "处级任免权", region)
        zzb = add(f"{ccode}-ZZB", f"中共{cname}市委组织部", committee, "市", "组织部", "厅局级副职", "处级任免权",
                  region, True)
        for i, (name, kind) in enumerate(bureaus, 1):
            add(f"{ccode}-B{i:02d}", f"{cname}市{name}", zzb, "委办局", kind, "县处级正职", "处级任免权", region)
        for d in range(1, per_city + 1):
            dname, dcode, dregion = cname + DISTRICT_NAMES[(d - 1) % len(DISTRICT_NAMES)], f"{ccode}-D{d:02d}", f"33{c:02d}{d:02d}"
            dcom = add(dcode, f"中共{dname}委员会", zzb, "区县", "党委", "县处级正职", "处级任免权", dregion)
            districts.append((add(f"{dcode}-ZZB", f"中共{dname}委组织部", dcom, "区县", "组织部", "县处级正职",
                                  "处级任免权", dregion, True), dname))
    # The rest, round-robin over the districts: bureaus, townships, institutions, SOEs and, now
    # and then, an office inside the district's previous unit, without appointment authority.
    kinds = pool(委办局=30, 乡镇街道=25, 事业单位=25, 国有企业=8, 其他=12)
    seq, last = {}, {}
    while len(units) < n:
        zzb, dname = districts[len(units) % len(districts)]
        seq[zzb] = s = seq.get(zzb, 0) + 1
        code, kind = f"{zzb.code[:-4]}-U{s:03d}", rng.choice(kinds)
        if kind == "其他" and zzb in last:
            parent = last[zzb]
            add(f"{parent.code}-K{s:03d}", f"{parent.name}第{s}科室", parent, "其他", "其他", "乡科级副职", "无", zzb.region)
            continue
        if kind == "委办局":
            seq[zzb, kind] = b = seq.get((zzb, kind), 0) + 1
            name, utype = BUREAUS[(b - 1) % len(BUREAUS)]
            unit = add(code, f"{dname}{name}{'' if b <= len(BUREAUS) else '第二分局'}", zzb, kind, utype, "乡科级正职",
                       "科级任免权", zzb.region)
        elif kind == "乡镇街道":
            unit = add(code, f"{dname}第{s}{'街道办事处' if s % 3 else '镇人民政府'}", zzb, kind, "政府", "乡科级正职",
                       "科级任免权", zzb.region)
        else:
            kind = "事业单位" if kind == "其他" else kind
            unit = add(code, f"{dname}第{s}{'事业中心' if kind == '事业单位' else '国有公司'}", zzb, kind, "其他",
                       "乡科级正职", "科级任免权", zzb.region)
        last[zzb] = unit
    return units


# ---- the cases -------------------------------------------------------------------------------------

@dataclass(slots=True)
class Plan:
    """One case's facts that several tables share."""
    id: int
    unit: Unit
    batch_id: int
    case_no: str
    decided: dt.date | None     # the batch's decision date (None: not decided yet)
    created: dt.datetime
    first: dt.date | None       # node 1 reported on
    doc: dt.date | None         # appointment document date (node 2's anchor)
    second: dt.date | None      # node 2 reported on
    name: str
    male: bool

    @property
    def status(self) -> str:
        return "已二次提交" if self.second else "已初次提交" if self.first else "草稿"


def _delay(rng: random.Random, days: int) -> int | None:
    """Days from the anchor to the report: mostly within ``days``, a few percent late, a few never."""
    r = rng.random()
    if r < P_NEVER:
        return None
    if r < P_NEVER + P_LATE:
        return days + 1 + int(rng.expovariate(1 / 6))
    return rng.choice(ON_TIME)


def plan_cases(units: list[Unit], m: int, today: dt.date, rng: random.Random):
    """(batches, cases): meetings of 1–15 cases over two years, ids in chronological order."""
    reporting = [u for u in units if u.authority != "无"]
    weights = list(itertools.accumulate(3 if u.authority == "处级任免权" else 1 for u in reporting))
    meetings, total = [], 0
    while total < m:
        size = min(m - total, 1 + min(14, int(rng.expovariate(1 / 3))))
        decided = None if rng.random() < P_UNDECIDED else today - dt.timedelta(days=rng.randrange(730))
        meetings.append((decided or dt.date.max, rng.choices(reporting, cum_weights=weights)[0], size))
        total += size
    meetings.sort(key=lambda b: b[0])
    batches, cases, numbers = [], [], {}
    for batch_id, (decided, unit, size) in enumerate(meetings, 1):
        decided = None if decided == dt.date.max else decided
        opened = (decided - dt.timedelta(days=rng.randrange(20, 90))) if decided else (
            today - dt.timedelta(days=rng.randrange(60)))
        batches.append((batch_id, unit, decided, opened))
        for _ in range(size):
            created = dt.datetime.combine(opened, dt.time(8)) + dt.timedelta(seconds=rng.randrange(36000))
            key = (unit.id, created.year)
            numbers[key] = numbers.get(key, 0) + 1
            first = doc = second = None
            if decided:
                delay = _delay(rng, FIRST_DAYS)
                if delay is not None and decided + dt.timedelta(days=delay) <= today:
                    first = decided + dt.timedelta(days=delay)
                    doc = decided + dt.timedelta(days=rng.randrange(8, 35))
                    if doc > today or rng.random() > P_APPOINTED:
                        doc = None  # not appointed (yet)
                    else:
                        delay = _delay(rng, SECOND_DAYS)
                        if delay is not None and doc + dt.timedelta(days=delay) <= today:
                            second = doc + dt.timedelta(days=delay)
            male = rng.random() < 0.7
            name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
            cases.append(Plan(len(cases) + 1, unit, batch_id, f"{unit.code}-{created.year}-{numbers[key]:04d}",
                              decided, created, first, doc, second, name, male))
    return batches, cases


def _id_card(region: str, birth: dt.date, male: bool, rng: random.Random) -> str:
    body = f"{region}{birth:%Y%m%d}{rng.randrange(50):02d}{rng.randrange(5) * 2 + male}"
    return body + id_check_char(body)


def _target_grade(p: Plan) -> str:
    """Up to three grades below the unit's own; a function of the case, so that both tables agree."""
    top = GRADES.index(p.unit.max_grade)
    return GRADES[max(0, top - (p.id * 7919 % 4))]


def rows_batch(batches, rng):
    meeting = pool(党委常委会=5, **{"党组(党委)会议": 4, "行政办公会/院(局)务会": 1})
    for bid, unit, decided, opened in batches:
        row = (bid, unit.id, f"{unit.name}{decided or opened:%Y年%m月}干部任免（第{bid}批）",
               dt.datetime.combine(opened, dt.time(9)))
        if decided is None:  # the meeting has not taken place yet
            yield row + (None,) * 7
            continue
        present = 11 - bid % 3
        yield row + (rng.choice(meeting), decided, 11, present, present < 11,
                     "无记名投票" if bid % 4 else "举手表决", True)


BATCH_COLUMNS = ("id, unit_id, title, created_at, decision_meeting_type, decision_date, members_total, "
                 "members_present, absent_opinion_collected, vote_method, main_leader_last")


def _light(p: Plan, rng) -> str | None:
    if not p.first:
        return None  # a draft: never evaluated
    if p.doc and not p.second:
        return "绿"  # a node still open: never red before the first scan
    r = rng.random()
    return "绿" if r < 0.9 else "黄" if r < 0.98 else "红"


def _not_begun(p: Plan, columns: str) -> tuple:
    """A module row not begun: the case, its unit, 未填, and every other column of ``columns`` empty."""
    return (p.id, p.unit.id, "未填") + (None,) * (columns.count(",") - 2)


def rows_case(cases, today, rng):
    for p in cases:
        yield (p.id, p.unit.id, p.batch_id, p.case_no, 1, p.id, True, p.status, p.name, p.unit.clerk, p.created,
               _light(p, rng))


def rows_qualification(cases, today, rng):
    for p in cases:
        on = p.decided or today
        birth = on - dt.timedelta(days=rng.randrange(28 * 365, 56 * 365))
        work = birth + dt.timedelta(days=rng.randrange(21 * 365, 25 * 365))
        member = rng.choice(POLITICAL)
        joined = min(on, birth + dt.timedelta(days=rng.randrange(19 * 365, 32 * 365))) if member.startswith("中共") else None
        edu = rng.choice(EDUCATION)
        grade = GRADES[max(0, GRADES.index(_target_grade(p)) - 1)]
        post = f"{p.unit.name}{POST_TITLE[grade]}"
        graded = on - dt.timedelta(days=rng.randrange(700, 3000))
        yield (p.id, p.unit.id, "已完成" if p.first else "填写中", p.first, p.name,
               _id_card(p.unit.region, birth, p.male, rng), "男" if p.male else "女", birth,
               "汉族" if rng.random() < 0.92 else rng.choice(ETHNICITIES[1:56]), rng.choice(PLACES), member, joined,
               joined + dt.timedelta(days=365) if joined and member == "中共党员" else None, work,
               IDENTITY.get(p.unit.level, "公务员" if rng.random() < 0.8 else "参照公务员法管理"), edu,
               {"研究生": "硕士" if rng.random() < 0.9 else "博士", "大学本科": "学士"}.get(edu, "无"),
               "研究生" if rng.random() < 0.2 else "无", f"{work:%Y.%m}参加工作，{graded:%Y.%m}起任{post}",
               post, grade, graded, graded, rng.randrange(1, 5), rng.randrange(0, 121), "已达到规定要求", True,
               rng.choice(APPRAISAL), rng.choice(APPRAISAL), rng.choice(APPRAISAL), "无", "无")


QUALIFICATION_COLUMNS = (
    "case_id, unit_id, state, completed_at, full_name, id_card_no, sex, birth_date, ethnicity, native_place, "
    "political_status, party_join_date, party_full_member_date, work_start_date, identity, full_time_education, "
    "full_time_degree, part_time_education, resume, current_post, current_grade, current_post_date, "
    "current_grade_date, lower_level_posts_count, grassroots_months, training_status, health_ok, appraisal_y1, "
    "appraisal_y2, appraisal_y3, sanction_type, spouse_children_abroad")


def rows_motion(cases, today, rng):
    for p in cases:
        grade = _target_grade(p)
        quota = rng.randrange(1, 6)
        breaking = rng.random() < 0.005
        yield (p.id, p.unit.id, "已完成" if p.first else "填写中", p.first, rng.choice(SELECTION_TYPE), p.unit.id,
               f"{p.unit.name}{POST_TITLE[grade]}", grade, POST_KIND[p.unit.level], rng.random() < 0.3, quota,
               rng.randrange(quota), rng.choice(REASONS), p.created.date(), rng.choice(SELECTION_METHOD), breaking,
               "工作需要-专业性强或专项工作急需" if breaking else None, False, False)


MOTION_COLUMNS = (
    "case_id, unit_id, state, completed_at, selection_type, target_unit_id, target_post, target_grade, "
    "target_post_kind, is_principal, approved_quota, current_incumbents, motion_reason, motion_meeting_date, "
    "selection_method, is_breaking_rule, breaking_rule_reason, is_skip_level, freeze_window_flag")


def rows_appointment(cases, today, rng):
    for p in cases:
        if p.doc is None:
            yield _not_begun(p, APPOINTMENT_COLUMNS)
            continue
        probation = rng.random() < 0.5
        end = p.doc + dt.timedelta(days=365) if probation else None
        yield (p.id, p.unit.id, "已完成", p.doc, "委任制", "本级决定" if rng.random() < 0.85 else "报上级备案",
               f"{p.unit.code}〔{p.doc.year}〕{p.id % 997 + 1}号", p.doc, p.doc, probation, end,
               ("胜任" if end < today else "未到期") if probation else None,
               min(today, p.doc + dt.timedelta(days=rng.randrange(4))))


APPOINTMENT_COLUMNS = (
    "case_id, unit_id, state, completed_at, appointment_mode, approval_route, appointment_doc_no, "
    "appointment_doc_date, appointment_effective_date, probation_applicable, probation_end, "
    "probation_review_result, appointment_talk_date")


def _reported(anchor, days, done):
    if done is None:
        return "未提交"
    return "逾期提交" if done > anchor + dt.timedelta(days=days) else "按时提交"


def rows_submission(cases, today, rng):
    for p in cases:
        first = _reported(p.decided, FIRST_DAYS, p.first)
        second = _reported(p.doc, SECOND_DAYS, p.second) if p.doc else "未到期"
        yield (p.id, p.unit.id, "已完成" if p.second else "填写中" if p.first else "未填", p.second, p.first, first,
               p.second, second, rng.choice(REVIEW) if p.first else None)


SUBMISSION_COLUMNS = ("case_id, unit_id, state, completed_at, first_submitted_at, first_submit_status, "
                      "second_submitted_at, second_submit_status, review_result")


def rows_deadline(cases, today, rng):
    for p in cases:
        for node, anchor, days, done in ((1, p.decided, FIRST_DAYS, p.first), (2, p.doc, SECOND_DAYS, p.second)):
            if anchor is None:
                continue
            due = anchor + dt.timedelta(days=days)
            late = max(0, (done - due).days) if done else 0
            status = "未到期" if done is None else "逾期" if late else "按时"
            yield (p.id, p.id, p.unit.id, node, anchor, days, "calendar", due, status, done, late,
                   dt.datetime.combine(done or anchor, dt.time(9)))


DEADLINE_COLUMNS = ("root_id, case_id, unit_id, node, anchor_date, days, day_type, due_date, status, "
                    "submitted_on, days_late, updated_at")


# ---- the procedure modules the statistics read ---------------------------------------------------------
#
# One row per case in each table, like the app's ensure_rows(). The dates keep the procedure's order
# without sharing state between the tables: each step draws from its own window before the decision
# date (推荐 60–89 days, 考察 33–50, 事前报告 18–25, 酝酿 3–15) or after it (公示 1–12, up to the
# appointment document). What two tables must agree on (the 事前报告 flag) is a function of the case.
# Undecided cases (drafts) have only the recommendation begun.

CONSULT_SCOPE = ("党委（党组）成员范围内酝酿", "党委（党组）主要负责人、分管领导范围内酝酿")
SKIP_REASON = pool(平级交流不需推荐=5, 单位人数较少且范围基本相同且意见集中=3, 其他=1)
PRIOR_ITEMS = pool(超职数配备=3, 破格提拔=2, 非换届期间一次性调整较多=2, 机构变动或主要领导即将离任时调整干部=2,
                   受处理处分后重新任用=1, 其他=1)
PRIOR_REPLY = pool(同意=85, 不同意=5, 未答复=10)
COMPLAINTS = pool(**{"0": 92, "1": 6, "2": 1, "3": 1})
VERIFIED = pool(查否=60, 部分属实不影响任职=30, 核查中=7, 属实影响任职=3)
PUBLICITY_RESULT = {"查否": "不影响任职", "部分属实不影响任职": "不影响任职", "核查中": "暂缓任职", "属实影响任职": "影响任职"}
CONCLUSION = pool(建议任用=98, 建议缓用=2)
ECONOMIC_AUDIT = pool(不需要=70, 已审计无问题=25, 已审计有问题=3, 应审未审=2)
DISCIPLINE = pool(无影响使用的问题=95, 有问题但不影响使用=5)
PERSONAL_MATTERS = pool(一致=94, **{"漏报（情节较轻，已说明）": 4}, 不属于报告对象=2)


@dataclass(slots=True)
class Motion:
    """What the procedure modules read from a case's motion (read back from the database)."""
    selection_type: list      # index into SELECTION_TYPES, by case id
    breaking: bytearray       # 1: 破格提拔


SELECTION_TYPES = tuple(dict.fromkeys(SELECTION_TYPE))


def read_motions(conn, cases: int) -> Motion:
    types, breaking = [0] * (cases + 1), bytearray(cases + 1)
    index = {t: i for i, t in enumerate(SELECTION_TYPES)}
    with conn.cursor() as cur:
        for case_id, selection_type, is_breaking in cur.stream(
                "SELECT case_id, selection_type, is_breaking_rule FROM case_motion"):
            if case_id <= cases:
                types[case_id] = index.get(selection_type, 0)
                breaking[case_id] = bool(is_breaking)
    return Motion(types, breaking)


def _kind(p: Plan, motion: Motion) -> str:
    return SELECTION_TYPES[motion.selection_type[p.id]]


def _prior_report(p: Plan, motion: Motion) -> bool:
    """事前报告: every 破格 case and ≈3 % of the others (a function of the case: two tables read it)."""
    return bool(motion.breaking[p.id]) or p.id * 2654435761 % 1000 < 30


def _at(day: dt.date, rng) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(9)) + dt.timedelta(seconds=rng.randrange(28800))


def each_decided(row, columns: str):
    """The rows of a module that begins with the decision: ``row(p, today, rng, motion)`` for a decided case,
    a row not begun for any other."""
    def rows(cases, today, rng, motion):
        for p in cases:
            yield _not_begun(p, columns) if p.decided is None else row(p, today, rng, motion)
    return rows


def rows_recommendation(cases, today, rng, motion):
    for p in cases:
        kind = _kind(p, motion)
        required = kind in ("提拔", "进一步使用") or (kind == "职级晋升" and rng.random() < 0.3)
        if p.decided is None:  # a draft: the recommendation is the step under way
            talk = p.created.date() + dt.timedelta(days=rng.randrange(1, 15))
            if not required or talk > today:
                yield _not_begun(p, RECOMMENDATION_COLUMNS)
            else:
                yield (p.id, p.unit.id, "填写中", None, True, talk, rng.randrange(15, 80)) + (None,) * 14
            continue
        reused = p.decided - dt.timedelta(days=rng.randrange(100, 360)) if required and rng.random() < 0.05 else None
        if not required or reused:
            yield (p.id, p.unit.id, "已完成", _at(p.decided - dt.timedelta(days=60), rng), required, None, None, None,
                   None, None, False, None if reused else "平级交流不需推荐" if kind == "平级交流/转任" else
                   rng.choice(SKIP_REASON)) + (None,) * 8 + (reused,)
            continue
        talk = p.decided - dt.timedelta(days=rng.randrange(60, 90))
        expected = rng.randrange(15, 80)
        actual = max(1, expected - rng.randrange(4))
        meeting = rng.random() < 0.7
        row = (p.id, p.unit.id, "已完成", _at(talk + dt.timedelta(days=8), rng), True, talk, expected, actual,
               int(actual * rng.uniform(0.55, 0.95)), rng.choice((1, 1, 1, 1, 1, 1, 2, 3)), meeting)
        if meeting:
            m_expected = rng.randrange(20, 120)
            m_actual = m_expected - rng.randrange(min(6, m_expected))
            returned = m_actual - rng.randrange(2)
            valid = returned - rng.randrange(2)
            row += (None, talk + dt.timedelta(days=rng.randrange(1, 8)), m_expected, m_actual, m_actual, returned,
                    valid, int(valid * rng.uniform(0.5, 0.95)), rng.choice((1, 1, 1, 1, 2)), None)
        else:
            row += (rng.choice(SKIP_REASON),) + (None,) * 9
        yield row


RECOMMENDATION_COLUMNS = (
    "case_id, unit_id, state, completed_at, recommendation_required, talk_reco_date, talk_reco_expected, "
    "talk_reco_actual, talk_reco_votes, talk_reco_rank, meeting_reco_done, meeting_reco_skip_reason, "
    "meeting_reco_date, meeting_reco_expected, meeting_reco_actual, ballots_issued, ballots_returned, "
    "ballots_valid, meeting_reco_votes, meeting_reco_rank, reused_reco_date")


def rows_inspection(cases, today, rng, motion):
    for p in cases:
        if p.decided is None or _kind(p, motion) in ("免职", "降职"):
            yield _not_begun(p, INSPECTION_COLUMNS)
            continue
        objects = 1 if rng.random() < 0.75 else rng.choice((2, 2, 2, 3))  # 差额考察: more objects than posts
        chosen = p.decided - dt.timedelta(days=rng.randrange(45, 51))
        start = chosen + dt.timedelta(days=rng.randrange(2, 5))
        end = start + dt.timedelta(days=rng.randrange(3, 8))
        participants = rng.randrange(15, 90)
        excellent = int(participants * rng.uniform(0.6, 0.9))
        competent = int((participants - excellent) * rng.uniform(0.5, 1))
        basic = rng.randrange(participants - excellent - competent + 1)
        petition = rng.random() < 0.05
        yield (p.id, p.unit.id, "已完成", _at(end + dt.timedelta(days=3), rng), objects, chosen, '["无"]',
               chosen + dt.timedelta(days=1), start, end, rng.randrange(10, 60), participants, excellent, competent,
               basic, 0, start + dt.timedelta(days=1),
               "与填报一致" if rng.random() < 0.97 else "存在差异已认定（以档案为准）", start + dt.timedelta(days=2),
               rng.choice(PERSONAL_MATTERS), start, end + dt.timedelta(days=rng.randrange(3, 10)), rng.choice(DISCIPLINE),
               petition, rng.choice(("查否", "线索不具体未查", "部分属实不影响使用")) if petition else None,
               rng.choice(ECONOMIC_AUDIT), "无亲属关系", rng.choice(CONCLUSION))


INSPECTION_COLUMNS = (
    "case_id, unit_id, state, completed_at, inspection_object_count, inspection_object_date, negative_list_result, "
    "inspection_notice_date, inspection_start, inspection_end, interview_count, eval_participants, eval_excellent, "
    "eval_competent, eval_basic, eval_incompetent, archive_review_date, sanling_result, personal_matters_check_date, "
    "personal_matters_result, discipline_opinion_request_date, discipline_opinion_reply_date, "
    "discipline_opinion_result, petition_received, petition_check_result, economic_audit, kinship_avoidance, "
    "inspection_conclusion")


def consultation_row(p: Plan, today, rng, motion) -> tuple:
    dual = p.unit.unit_type in ("法院", "检察院", "公安")
    prior = _prior_report(p, motion)
    reported = p.decided - dt.timedelta(days=rng.randrange(18, 26)) if prior else None
    items = ('["破格提拔"]' if motion.breaking[p.id] else f'["{rng.choice(PRIOR_ITEMS)}"]') if prior else None
    reply = rng.choice(PRIOR_REPLY) if prior else None
    consulted = p.decided - dt.timedelta(days=rng.randrange(3, 16))
    return (p.id, p.unit.id, "已完成", _at(consulted, rng), rng.choice(CONSULT_SCOPE), consulted,
            "同意" if p.unit.level == "委办局" else "不适用", "同意" if rng.random() < 0.1 else "不适用",
            p.decided - dt.timedelta(days=rng.randrange(40, 61)) if dual else None, "同意" if dual else "不适用",
            prior, items, reported, reply,
            reported + dt.timedelta(days=rng.randrange(3, 11)) if reply in ("同意", "不同意") else None)


CONSULTATION_COLUMNS = (
    "case_id, unit_id, state, completed_at, consult_scope, consult_date, upper_supervisor_opinion, "
    "united_front_opinion, co_manager_request_date, co_manager_reply, prior_report_required, prior_report_items, "
    "prior_report_date, prior_report_reply, prior_report_reply_date")


def decision_row(p: Plan, today, rng, motion) -> tuple:
    """The per-case part of 讨论决定 (the meeting itself is the batch's)."""
    present = 11 - p.batch_id % 3  # as rows_batch has it
    against = 1 if rng.random() < 0.05 else 0
    return (p.id, p.unit.id, "已完成", _at(p.decided, rng), True, True if _prior_report(p, motion) else None,
            present - against, against, 0, "通过", False)


DECISION_COLUMNS = ("case_id, unit_id, state, completed_at, reasons_presented, reported_items_explained, votes_for, "
                    "votes_against, votes_defer, decision_result, is_reconsideration")


def publicity_row(p: Plan, today, rng, motion) -> tuple:
    if _kind(p, motion) != "提拔" and not (_kind(p, motion) == "进一步使用" and rng.random() < 0.5):
        return (p.id, p.unit.id, "已完成", _at(p.decided, rng), False, "非提拔任职") + (None,) * 7
    start = p.decided + dt.timedelta(days=rng.randrange(1, 4))
    end = start + dt.timedelta(days=rng.randrange(6, 10))
    if p.doc:
        end = min(end, p.doc)
    if start > today:  # decided in the last days: not published yet
        return (p.id, p.unit.id, "填写中", None, True) + (None,) * 8
    complaints = int(rng.choice(COMPLAINTS))
    verified = rng.choice(VERIFIED) if complaints else "无反映"
    done = end <= today and verified != "核查中"
    return (p.id, p.unit.id, "已完成" if done else "填写中", _at(end, rng) if done else None, True, None, start, end,
            "单位内部公示栏及门户网站", True, complaints, verified,
            (PUBLICITY_RESULT.get(verified, "不影响任职") if end <= today else None))


PUBLICITY_COLUMNS = (
    "case_id, unit_id, state, completed_at, publicity_required, publicity_exempt_reason, publicity_start, "
    "publicity_end, publicity_scope, publicity_content_complete, complaints_count, complaints_verified, "
    "publicity_result")

MODULE_TABLES = (
    ("case_recommendation", RECOMMENDATION_COLUMNS, rows_recommendation),
    ("case_inspection", INSPECTION_COLUMNS, rows_inspection),
    ("case_consultation", CONSULTATION_COLUMNS, each_decided(consultation_row, CONSULTATION_COLUMNS)),
    ("case_decision", DECISION_COLUMNS, each_decided(decision_row, DECISION_COLUMNS)),
    ("case_publicity", PUBLICITY_COLUMNS, each_decided(publicity_row, PUBLICITY_COLUMNS)),
)


# ---- COPY ------------------------------------------------------------------------------------------

def copy(conn, table: str, columns: str, rows, total: int, verbose: bool = True) -> tuple[int, float]:
    """COPY ``rows`` into ``table``; a progress line while it runs. Returns (rows, seconds)."""
    start, done = time.perf_counter(), 0
    step = max(1, total // 20)
    progress = verbose and sys.stderr.isatty()
    with conn.cursor() as cur, cur.copy(f"COPY {table} ({columns}) FROM STDIN", writer=QueuedLibpqWriter(cur)) as cp:
        for row in rows:  # the writer thread sends while this one generates
            cp.write_row(row)
            done += 1
            if progress and done % step == 0:
                print(f"\r  {table:<20}{done:>12,} / {total:,}", end="", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - start
    if verbose:
        print(f"\r  {table:<20}{done:>12,} rows {seconds:8.1f} s {done / max(seconds, 1e-9):>10,.0f} rows/s", flush=True)
    return done, seconds


def vacuum_analyze(conn, tables: list[str] | None = None, verbose: bool = True) -> tuple[int, float]:
    """VACUUM (ANALYZE) ``tables`` (every table without): hint bits and the visibility map now, not during
    the first benchmark. Returns (0 rows, seconds)."""
    start = time.perf_counter()
    autocommit, conn.autocommit = conn.autocommit, True
    try:
        conn.execute("VACUUM (ANALYZE)" + (f" {', '.join(tables)}" if tables else ""))
    finally:
        conn.autocommit = autocommit
    seconds = time.perf_counter() - start
    if verbose:
        print(f"  {'(vacuum analyze)':<20}{'':>12} {seconds:13.1f} s")
    return 0, seconds


def generate(conn, units: int = 10000, cases: int = 1_000_000, seed: int = 1, today: dt.date | None = None,
             verbose: bool = True) -> dict:
    """Fill a freshly migrated database (roles synced) on psycopg connection ``conn``; commits,
    then VACUUM ANALYZE. Returns {table: (rows, seconds)}."""
    today = today or dt.date.today()
    rng = random.Random(seed)
    roles = dict(conn.execute("SELECT name, id FROM ab_role").fetchall())
    missing = {"填报员", "监督员", "系统管理员"} - set(roles)
    if missing:
        raise RuntimeError(f"roles missing: {missing}; run `flask db upgrade` and start the app once")
    if conn.execute("SELECT count(*) FROM unit").fetchone()[0]:
        raise RuntimeError("the database already has units: generate() fills an empty database")
    from werkzeug.security import generate_password_hash

    password = generate_password_hash(PASSWORD, method="pbkdf2:sha256:1000")
    out = {}
    t0 = time.perf_counter()
    tree = build_tree(units, rng)
    out["unit"] = copy(conn, "unit", "id, code, name, parent_id, path, level, unit_type, region_code, max_grade, "
                       "authority, dual_managed",
                       ((u.id, u.code, u.name, u.parent.id if u.parent else None, u.path, u.level, u.unit_type,
                         u.region, u.max_grade, u.authority, u.unit_type in ("法院", "检察院", "公安")) for u in tree),
                       len(tree), verbose)

    users = [("bench_admin", "基准测试管理员", None, "系统管理员")]
    users += [(f"jd_{u.code.lower()}", f"{u.name}监督员", u, "监督员") for u in tree if u.supervised]
    users += [(f"tb_{u.code.lower()}", f"{u.name}填报员", u, "填报员") for u in tree if u.authority != "无"]
    now = dt.datetime.now()
    for uid, (_, _, unit, role) in enumerate(users, 1):
        if role == "填报员":
            unit.clerk = uid
    out["ab_user"] = copy(conn, "ab_user", "id, first_name, last_name, username, password, active, email, login_count, "
                          "fail_login_count, created_on, changed_on, unit_id",
                          ((i, name[:64], "", username, password, True, f"{username}@bench.jishi.invalid", 0, 0, now,
                            now, unit.id if unit else None) for i, (username, name, unit, _) in enumerate(users, 1)),
                          len(users), verbose)
    out["ab_user_role"] = copy(conn, "ab_user_role", "user_id, role_id",
                               ((i, roles[role]) for i, (_, _, _, role) in enumerate(users, 1)), len(users), verbose)

    start = time.perf_counter()
    batches, plans = plan_cases(tree, cases, today, rng)
    if verbose:
        print(f"  {'(plan)':<20}{len(plans):>12,} cases {time.perf_counter() - start:8.1f} s", flush=True)
    out["batch"] = copy(conn, "batch", BATCH_COLUMNS, rows_batch(batches, rng), len(batches), verbose)
    for table, columns, rows in (
            ("cadre_case", "id, unit_id, batch_id, case_no, version_no, root_id, is_current, status, full_name, "
             "created_by_id, created_at, light", rows_case),
            ("case_qualification", QUALIFICATION_COLUMNS, rows_qualification),
            ("case_motion", MOTION_COLUMNS, rows_motion),
            ("case_appointment", APPOINTMENT_COLUMNS, rows_appointment),
            ("case_submission", SUBMISSION_COLUMNS, rows_submission),
            ("case_deadline", DEADLINE_COLUMNS, rows_deadline)):
        total = sum(1 + (p.doc is not None) for p in plans if p.decided) if table == "case_deadline" else len(plans)
        out[table] = copy(conn, table, columns, rows(plans, today, rng), total, verbose)
    out.update(fill_modules(conn, plans, today, seed, verbose))
    out.update(fill_facts(conn, verbose))
    for table in ("unit", "ab_user", "ab_user_role", "batch", "cadre_case", "case_qualification", "case_motion",
                  "case_appointment", "case_submission", "case_deadline"):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    conn.commit()
    check_counts(conn, {table: rows for table, (rows, _) in out.items()} | {"cadre_case": cases, "case_fact": cases})
    out["(vacuum analyze)"] = vacuum_analyze(conn, verbose=verbose)
    if verbose:
        print(f"generated in {time.perf_counter() - t0:.1f} s", flush=True)
    return out


def fill_facts(conn, verbose: bool = True) -> dict:
    """The statistics fact rows (app/models/facts.py) of every case: ``app.queries.facts.rebuild``
    run by an app on the same database, on its own connection. ``conn``'s work is committed first:
    the rebuild must see it, and SQLAlchemy rolls back any connection it is handed on first use
    (which once discarded every COPY of the run and left the database empty)."""
    import config

    from app import create_app
    from app.extensions import db
    from app.queries.facts import rebuild

    conn.commit()
    p = conn.info.get_parameters()
    url = f"postgresql+psycopg://{p.get('user', 'postgres')}@{p.get('host', '127.0.0.1')}:{p.get('port', 5432)}/{p['dbname']}"
    start = time.perf_counter()
    with create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=url).app_context():
        rows = rebuild()
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    if verbose:
        print(f"  {'case_fact':<20}{rows:>12,} rows {time.perf_counter() - start:8.1f} s", flush=True)
    return {"case_fact": (rows, time.perf_counter() - start)}


def check_counts(conn, expected: dict[str, int]) -> None:
    """Raise ShortDataSet unless every table holds the rows it was given (read back on ``conn``, after
    the commit): a generator that reports COPY times over an empty database must fail loudly."""
    conn.commit()
    short = {table: (conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0], rows)
             for table, rows in expected.items()}
    conn.rollback()  # (only read: leaves the connection idle, as VACUUM needs)
    short = {table: got_want for table, got_want in short.items() if got_want[0] != got_want[1]}
    if short:
        raise ShortDataSet("the database does not hold what was generated: " + ", ".join(
            f"{table} {got:,} rows, {want:,} expected" for table, (got, want) in short.items()))


class ShortDataSet(RuntimeError):
    pass


def fill_modules(conn, plans: list[Plan], today: dt.date, seed: int, verbose: bool = True) -> dict:
    """COPY the procedure modules (MODULE_TABLES) for ``plans``, whose motions are already in the
    database (read back on ``conn``). Their own random stream: the same rows whether they are made
    by ``generate()`` or added later by ``add_modules()``. Returns {table: (rows, seconds)}."""
    rng = random.Random(f"{seed}:modules")
    start = time.perf_counter()
    motion = read_motions(conn, len(plans))
    if verbose:
        print(f"  {'(read motions)':<20}{len(plans):>12,} cases {time.perf_counter() - start:8.1f} s", flush=True)
    out = {}
    for table, columns, rows in MODULE_TABLES:
        out[table] = copy(conn, table, columns, rows(plans, today, rng, motion), len(plans), verbose)
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    return out


def add_modules(conn, units: int = 10000, cases: int = 1_000_000, seed: int = 1, today: dt.date | None = None,
                verbose: bool = True) -> dict:
    """Fill (replace) only the procedure modules of a database ``generate()`` made with the same
    ``units``, ``cases``, ``seed`` and ``today`` (default: its latest decision date, the day it was
    made). The plan is made again and checked against the database first; commits, then VACUUM
    ANALYZE of those tables. Returns {table: (rows, seconds)}."""
    t0 = time.perf_counter()
    db_units, db_cases, latest = conn.execute(
        "SELECT (SELECT count(*) FROM unit), (SELECT count(*) FROM cadre_case), "
        "(SELECT max(decision_date) FROM batch)").fetchone()
    today = today or latest
    if today is None:
        raise RuntimeError("no decided batch in the database: not one generate() made")
    rng = random.Random(seed)
    tree = build_tree(units, rng)
    batches, plans = plan_cases(tree, cases, today, rng)
    mismatch = []
    if (db_units, db_cases) != (len(tree), len(plans)):
        mismatch.append(f"{db_units:,} units and {db_cases:,} cases in the database, {len(tree):,} and "
                        f"{len(plans):,} planned")
    else:
        step = max(1, len(plans) // 997)
        sample = plans[::step] + plans[-1:]
        got = {r[0]: r[1:] for r in conn.execute(
            "SELECT c.id, c.case_no, c.unit_id, c.batch_id, b.decision_date FROM cadre_case c "
            "LEFT JOIN batch b ON b.id = c.batch_id WHERE c.id = ANY(%s)", ([p.id for p in sample],)).fetchall()}
        for p in sample:
            if got.get(p.id) != (p.case_no, p.unit.id, p.batch_id, p.decided):
                mismatch.append(f"case {p.id}: {got.get(p.id)} in the database, "
                                f"{(p.case_no, p.unit.id, p.batch_id, p.decided)} planned")
                break
    if mismatch:
        raise RuntimeError(f"the database was not generated with --units {units} --cases {cases} --seed {seed} "
                           f"--today {today}: {mismatch[0]}")
    if verbose:
        print(f"  {'(plan, checked)':<20}{len(plans):>12,} cases {time.perf_counter() - t0:8.1f} s "
              f"(today {today})", flush=True)
    tables = [table for table, _, _ in MODULE_TABLES]
    conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY")
    out = fill_modules(conn, plans, today, seed, verbose)
    out.update(fill_facts(conn, verbose))
    tables.append("case_fact")
    conn.commit()
    check_counts(conn, {table: rows for table, (rows, _) in out.items()} | {"case_fact": cases})
    out["(vacuum analyze)"] = vacuum_analyze(conn, tables, verbose)
    if verbose:
        print(f"modules added in {time.perf_counter() - t0:.1f} s", flush=True)
    return out


# ---- the command -------------------------------------------------------------------------------------

def recreate(url: str) -> None:
    """Drop and create the database, migrate it, start the app once so that FAB syncs the roles."""
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    recreate_database(plain, "generate.py")
    from flask_migrate import upgrade

    import config
    from app import create_app

    with create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=plain).app_context():
        upgrade()
    create_app(config.TestConfig, SQLALCHEMY_DATABASE_URI=plain)  # FAB syncs roles and permissions


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--units", type=int, default=10000)
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None)
    parser.add_argument("--add-modules", action="store_true",
                        help="fill only the procedure modules into the existing generated database")
    args = parser.parse_args(argv)
    if args.add_modules:
        url = args.database_url.replace("postgresql+psycopg://", "postgresql://")
        if "bench" not in url.rsplit("/", 1)[1]:
            raise SystemExit(f"refusing to write to {url.rsplit('/', 1)[1]!r}: its name must contain 'bench'")
        with psycopg.connect(url) as conn:
            try:
                add_modules(conn, units=args.units, cases=args.cases, seed=args.seed, today=args.today)
            except ShortDataSet as exc:
                raise SystemExit(f"FAILED: {exc}")
        return
    start = time.perf_counter()
    recreate(args.database_url)
    print(f"schema (migrations, roles) in {time.perf_counter() - start:.1f} s", flush=True)
    with psycopg.connect(args.database_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        try:
            generate(conn, units=args.units, cases=args.cases, seed=args.seed, today=args.today)
        except ShortDataSet as exc:
            raise SystemExit(f"FAILED: {exc}")


if __name__ == "__main__":
    main()
