"""X: 一致性/伪报 (data consistency and falsification), X01–X17 (shared/spec/regulations.md B.6).

The ID-number arithmetic is app.idnumber's, the month counting app.dates'.
"""
from __future__ import annotations

import datetime as dt
import re

from app.dates import add_months, months_between
from app.idnumber import ID_FORMAT, id_birth_date, id_check_char, id_problems
from app.rules.registry import fail, na, ok, rule
from app.spec import items_by_key

PROBATION_MONTHS = 12  # 试用期规定2001 第三条: 试用期为一年
HAND_VOTE = "举手表决"
RETURNED = "退回补正"


def _d(day: dt.date) -> str:
    return day.isoformat()


def _label(key: str) -> str:
    return items_by_key()[key].label


def _id(ctx) -> str | None:
    """The ID number when its format is right (X01's first check), else None."""
    id_no = ctx["id_card_no"]
    return id_no if isinstance(id_no, str) and ID_FORMAT.fullmatch(id_no) else None


@rule("X01")
def x01_id_format(ctx):
    """身份证格式/地址码/日期无效 — GB 11643-1999: 18 characters, a GB/T 2260 region code, a real birth date in
    1900-01-01 … today."""
    id_no = ctx["id_card_no"]
    if id_no is None:
        return na("未填写公民身份号码")
    if not ID_FORMAT.fullmatch(id_no):
        return fail(f"公民身份号码“{id_no}”格式错误：应为18位，前17位为数字，末位为0–9或X（实际{len(id_no)}位）")
    problems = id_problems(id_no, ctx.as_of, check_char=False)  # the check character is X02's
    if problems:
        return fail("；".join(problems))
    return ok()


@rule("X02")
def x02_id_check_char(ctx):
    """身份证校验码错误 — GB 11643-1999: the ISO 7064 MOD 11-2 check character."""
    id_no = _id(ctx)
    if id_no is None:
        return na("公民身份号码未填写或格式错误（见X01）")
    expected = id_check_char(id_no[:17])
    if id_no[17] != expected:
        return fail(f"公民身份号码“{id_no}”校验码错误：末位为“{id_no[17]}”，按前17位计算应为“{expected}”")
    return ok()


@rule("X03", compare_granularity="month")
def x03_birth_date(ctx):
    """出生日期与身份证不一致 — 档案条例2018 (三龄认定); [L]: birth_date matches ID chars 7–14 (by month by default)."""
    id_no, born = _id(ctx), ctx["birth_date"]
    on_id = id_birth_date(id_no) if id_no else None
    if on_id is None or born is None:
        return na("缺少出生年月或有效的公民身份号码")
    if ctx.params["compare_granularity"] == "day":
        same, what = born == on_id, "出生日期"
    else:
        same, what = (born.year, born.month) == (on_id.year, on_id.month), "出生年月"
    if not same:
        return fail(f"{what}（{_d(born)}）与公民身份号码中的出生日期（{_d(on_id)}）不一致，"
                    "须有干部人事档案认定材料（三龄认定）并经监督部门审核认定")
    return ok()


@rule("X04")
def x04_sex(ctx):
    """性别与身份证不一致 — GB 11643: ID digit 17 is odd for 男, even for 女."""
    id_no, sex = _id(ctx), ctx["sex"]
    if id_no is None or sex not in ("男", "女"):
        return na("缺少性别或有效的公民身份号码")
    digit = int(id_no[16])
    expected = "男" if digit % 2 else "女"
    if sex != expected:
        return fail(f"性别（{sex}）与公民身份号码第17位（{digit}，{'奇数' if digit % 2 else '偶数'}应为{expected}）不符")
    return ok()


@rule("X05", min_work_age=16)
def x05_work_age(ctx):
    """参加工作时未满16周岁 — 劳动法 第十五条; [L]: work_start_date ≥ birth_date + 16 years."""
    if not ctx.has("work_start_date", "birth_date"):
        return na("缺少参加工作时间或出生年月")
    born, start, age = ctx["birth_date"], ctx["work_start_date"], ctx.params["min_work_age"]
    limit = add_months(born, 12 * age)
    if start < limit:
        return fail(f"参加工作时间（{_d(start)}）早于年满{age}周岁之日（{_d(limit)}，出生{_d(born)}），"
                    f"参加工作时仅{ctx.full_years(born, start)}周岁")
    return ok()


@rule("X06", min_join_age=18, probation_years_range=[1, 2])
def x06_party_dates(ctx):
    """入党年龄/转正日期异常 — 党章 第一条、第七条: joining before 18 is red; 转正 outside the 预备期 range is yellow.

    The catalogue's default range is [1, 3] years; 党章 第七条 sets the 预备期 at one year, extendable by at most one
    year, and 党龄 counts from its expiry, so 转正 falls 1–2 years after joining: the default here is [1, 2].
    """
    if not ctx.has("party_join_date"):
        return na("无入党时间")
    joined, reds, yellows = ctx["party_join_date"], [], []
    born, min_age = ctx["birth_date"], ctx.params["min_join_age"]
    if born is not None:
        limit = add_months(born, 12 * min_age)
        if joined < limit:
            reds.append(f"入党时间（{_d(joined)}）早于年满{min_age}周岁之日（{_d(limit)}），入党时仅"
                        f"{ctx.full_years(born, joined)}周岁")
    full = ctx["party_full_member_date"]
    if full is not None:
        low, high = ctx.params["probation_years_range"]
        earliest, latest = add_months(joined, round(12 * low)), add_months(joined, round(12 * high))
        if not earliest <= full <= latest:
            yellows.append(f"转正时间（{_d(full)}）距入党时间（{_d(joined)}）{months_between(joined, full)}个月，"
                           f"应在{low}–{high}年之间（{_d(earliest)}至{_d(latest)}）")
    if reds:
        return fail("；".join(reds + yellows), severity="red")
    if yellows:
        return fail("；".join(yellows), severity="yellow")
    if born is None and full is None:
        return na("缺少出生年月和转正时间")
    return ok()


RESUME_LINE = re.compile(r"\s*(\d{4})\.(\d{1,2})\s*[–—\-－~～至]+\s*(?:(\d{4})\.(\d{1,2}))?\s*(.*)")


def resume_periods(text: str) -> list[tuple[tuple[int, int], tuple[int, int] | None, str]]:
    """The "YYYY.MM–YYYY.MM 单位及职务" lines of a resume as ((y, m), (y, m) or None, line); other lines are skipped."""
    out = []
    for line in text.splitlines():
        m = RESUME_LINE.fullmatch(line.strip())
        if not m or not 1 <= int(m[2]) <= 12 or (m[4] and not 1 <= int(m[4]) <= 12):
            continue
        end = (int(m[3]), int(m[4])) if m[3] else None
        out.append(((int(m[1]), int(m[2])), end, line.strip()))
    return out


def _ym(ym: tuple[int, int]) -> str:
    return f"{ym[0]}.{ym[1]:02d}"


@rule("X07")
def x07_career_dates(ctx):
    """任职时间链异常 — [L]: work_start_date ≤ current_grade_date ≤ current_post_date ≤ today, and the resume periods
    run forward, start at or after work_start_date and are not in the future."""
    chain = [k for k in ("work_start_date", "current_grade_date", "current_post_date") if k in ctx]
    if not chain and "resume" not in ctx:
        return na("缺少参加工作时间、任现职级/现职时间和简历")
    problems = []
    for a, b in zip(chain, chain[1:]):
        if ctx[a] > ctx[b]:
            problems.append(f"{_label(a)}（{_d(ctx[a])}）晚于{_label(b)}（{_d(ctx[b])}）")
    for k in chain:
        if ctx[k] > ctx.as_of:
            problems.append(f"{_label(k)}（{_d(ctx[k])}）晚于今天（{_d(ctx.as_of)}）")
    periods = resume_periods(ctx["resume"] or "")
    today = (ctx.as_of.year, ctx.as_of.month)
    prev_end = None
    for start, end, line in periods:
        if end is not None and end < start:
            problems.append(f"简历“{line}”结束早于开始")
        if prev_end is not None and start < prev_end:
            problems.append(f"简历“{line}”开始于{_ym(start)}，早于上一段经历的结束（{_ym(prev_end)}）")
        for ym in (start, end):
            if ym is not None and ym > today:
                problems.append(f"简历“{line}”中的{_ym(ym)}晚于今天（{_d(ctx.as_of)}）")
                break
        prev_end = max(prev_end or start, end or start)
    if periods and ctx.has("work_start_date"):
        work = ctx["work_start_date"]
        first = min(p[0] for p in periods)
        if first < (work.year, work.month):
            problems.append(f"简历最早经历开始于{_ym(first)}，早于参加工作时间（{_d(work)}）")
    if problems:
        return fail("；".join(problems))
    if len(chain) < 2 and not periods:
        return na("可比较的任职时间不足")
    return ok()


# X08's two chains; the keys of a tuple may come in either order (谈话调研推荐 and 会议推荐, 条例2019 第二十条).
PROCEDURE_CHAIN = (("motion_meeting_date",), ("nomination_date",), ("talk_reco_date", "meeting_reco_date"),
                   ("inspection_object_date",), ("inspection_start",), ("inspection_end",), ("decision_date",),
                   ("first_submitted_at",))
APPOINTMENT_CHAIN = (("decision_date",), ("publicity_start",), ("publicity_end",), ("appointment_doc_date",),
                     ("second_submitted_at",))


CHAIN_KEYS = tuple(dict.fromkeys(k for chain in (PROCEDURE_CHAIN, APPOINTMENT_CHAIN) for step in chain for k in step))


def _chain_problems(ctx, chain) -> list[str]:
    out, latest = [], None  # latest: (date, key) of the latest date in the earlier steps
    for step in chain:
        present = [k for k in step if k in ctx]  # present values only: the context holds no empty one
        for k in present:
            if latest is not None and ctx[k] < latest[0]:
                out.append(f"{_label(k)}（{_d(ctx[k])}）早于{_label(latest[1])}（{_d(latest[0])}）")
        for k in present:
            if latest is None or ctx[k] > latest[0]:
                latest = (ctx[k], k)
    return out


@rule("X08")
def x08_procedure_dates(ctx):
    """程序日期链倒置 — [L]: motion ≤ nomination ≤ recommendation ≤ 考察对象 ≤ inspection ≤ decision ≤ first submission,
    and decision ≤ publicity ≤ appointment document ≤ second submission; empty dates are skipped."""
    if sum(1 for k in CHAIN_KEYS if k in ctx) < 2:
        return na("程序日期不足两个")
    problems = _chain_problems(ctx, PROCEDURE_CHAIN)
    problems += [p for p in _chain_problems(ctx, APPOINTMENT_CHAIN) if p not in problems]
    if problems:
        return fail("程序日期倒置：" + "；".join(problems))
    return ok()


def _order_problems(ctx, pairs) -> tuple[list[str], bool]:
    """(problems, whether any pair could be compared) for (smaller, larger) item pairs."""
    out, compared = [], False
    for small, large in pairs:
        if ctx.has(small, large):
            compared = True
            if ctx[small] > ctx[large]:
                out.append(f"{_label(small)}（{ctx[small]}）多于{_label(large)}（{ctx[large]}）")
    return out, compared


@rule("X09")
def x09_talk_reco_counts(ctx):
    """谈话推荐人数逻辑错误 — [L]: actual ≤ expected; votes ≤ actual; rank ≥ 1."""
    problems, compared = _order_problems(ctx, (("talk_reco_actual", "talk_reco_expected"),
                                               ("talk_reco_votes", "talk_reco_actual")))
    if ctx.has("talk_reco_rank"):
        compared = True
        if ctx["talk_reco_rank"] < 1:
            problems.append(f"{_label('talk_reco_rank')}（{ctx['talk_reco_rank']}）应不小于1")
    if problems:
        return fail("；".join(problems))
    return ok() if compared else na("无谈话调研推荐数据")


@rule("X10")
def x10_meeting_reco_counts(ctx):
    """会议推荐票数逻辑错误 — [L]: actual ≤ expected ≥ 1; issued ≤ actual; returned ≤ issued; valid ≤ returned;
    votes ≤ valid."""
    problems, compared = _order_problems(ctx, (("meeting_reco_actual", "meeting_reco_expected"),
                                               ("ballots_issued", "meeting_reco_actual"),
                                               ("ballots_returned", "ballots_issued"),
                                               ("ballots_valid", "ballots_returned"),
                                               ("meeting_reco_votes", "ballots_valid")))
    if ctx.has("meeting_reco_expected"):
        compared = True
        if ctx["meeting_reco_expected"] < 1:
            problems.insert(0, f"{_label('meeting_reco_expected')}（{ctx['meeting_reco_expected']}）应不小于1")
    if problems:
        return fail("；".join(problems))
    return ok() if compared else na("无会议推荐数据")


EVAL_GRADES = ("eval_excellent", "eval_competent", "eval_basic", "eval_incompetent")


@rule("X11")
def x11_eval_counts(ctx):
    """测评票数逻辑错误 — [L]: the four 测评 grades add up to no more than eval_participants."""
    present = [k for k in EVAL_GRADES if ctx.has(k)]
    if not ctx.has("eval_participants") or not present:
        return na("缺少民主测评参加人数或票数")
    total, people = sum(ctx[k] for k in present), ctx["eval_participants"]
    if total > people:
        terms = "+".join(str(ctx[k]) for k in present)
        return fail(f"民主测评各等次票数之和（{terms}={total}）多于参加人数（{people}）")
    return ok()


@rule("X12")
def x12_decision_votes(ctx):
    """表决票数逻辑错误 — [L]: present ≤ total; for + against + defer ≤ present (red); under 举手表决 the sum should
    equal present (yellow)."""
    problems, compared = _order_problems(ctx, (("members_present", "members_total"),))
    votes = [k for k in ("votes_for", "votes_against", "votes_defer") if ctx.has(k)]
    present = ctx["members_present"]
    total = sum(ctx[k] for k in votes)
    if votes and present is not None:
        compared = True
        if total > present:
            problems.append(f"同意、不同意、缓议/弃权票数之和（{'+'.join(str(ctx[k]) for k in votes)}={total}）"
                            f"多于实到会成员数（{present}）")
    if problems:
        return fail("；".join(problems), severity="red")
    if votes and present is not None and ctx["vote_method"] == HAND_VOTE and total != present:
        return fail(f"举手表决时同意、不同意、缓议/弃权之和（{total}）应等于实到会成员数（{present}）", severity="yellow")
    return ok() if compared else na("缺少到会人数或表决票数")


@rule("X13")
def x13_quota_data(ctx):
    """职数数据异常 — [L]: current_incumbents > approved_quota before this case, or the quota differs from org_unit."""
    quota, staffed = ctx["approved_quota"], ctx["current_incumbents"]
    if quota is None:
        return na("未填写核定职数")
    problems = []
    if staffed is not None and staffed > quota:
        problems.append(f"现有实配数（{staffed}）已多于核定职数（{quota}）")
    unit, grade = ctx.target_unit, ctx["target_grade"]
    unit_quota = unit.quotas.get(grade) if unit is not None and grade else None
    if unit_quota is not None and unit_quota != quota:
        problems.append(f"核定职数（{quota}）与机构编制信息中{unit.code or '拟任单位'}{grade}核定职数（{unit_quota}）不一致")
    if problems:
        return fail("；".join(problems))
    if staffed is None and unit_quota is None:
        return na("无可比较的职数数据")
    return ok()


@rule("X14")
def x14_grassroots_months(ctx):
    """基层经历超过工龄 — [L]: grassroots_months ≤ months worked (to the decision, or to today before it)."""
    if not ctx.has("grassroots_months", "work_start_date"):
        return na("缺少基层工作经历或参加工作时间")
    months, start = ctx["grassroots_months"], ctx["work_start_date"]
    end = ctx["decision_date"] or ctx.as_of
    worked = max(months_between(start, end), 0)
    if months > worked:
        return fail(f"基层工作经历 {months} 个月，多于参加工作以来的 {worked} 个月（{_d(start)} 至 {_d(end)}）")
    return ok()


@rule("X15", tolerance_days=3)
def x15_probation_end(ctx):
    """试用期满日期计算不符 — 试用期规定2001 第三条 (自发出试用任职通知时计算): probation_end = appointment_doc_date +
    12 months (± tolerance)."""
    if not ctx.has("probation_end", "appointment_doc_date"):
        return na("缺少试用期满日期或任职通知/发文日期")
    end, doc, tolerance = ctx["probation_end"], ctx["appointment_doc_date"], ctx.params["tolerance_days"]
    expected = add_months(doc, PROBATION_MONTHS)
    if abs((end - expected).days) > tolerance:
        return fail(f"试用期满日期（{_d(end)}）应为任职通知（{_d(doc)}）后一年即 {_d(expected)}"
                    f"（允许相差 {tolerance} 天），相差 {abs((end - expected).days)} 天")
    return ok()


@rule("X16")
def x16_changed_after_submission(ctx):
    """提交后未经退回被修改 — [L] (纪实 "全程留痕"): a submitted case is edited only after a 退回补正."""
    if not ctx.has("first_submitted_at"):
        return na("尚未提交")
    if RETURNED in (ctx["review_result"], ctx["first_submit_status"], ctx["second_submit_status"]):
        return ok()
    if ctx.related.changed_after_submission:
        return fail("案件提交后内容被修改，而案件未经“退回补正”")
    return ok()


@rule("X17")
def x17_parallel_cases(ctx):
    """同一人员存在并行案件 — [L]: another open case has the same id_card_no (possible duplicate or double promotion)."""
    if not ctx.has("id_card_no"):
        return na("未填写公民身份号码")
    others = ctx.related.parallel_open
    if others > 0:
        return fail(f"公民身份号码 {ctx['id_card_no']} 另有 {others} 件未办结的选拔任用记实案件，可能重复填报或重复提拔")
    return ok()
