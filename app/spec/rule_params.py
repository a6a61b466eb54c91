"""The rule parameters for people: each parameter's Chinese label, kind, unit and range, how a value is
shown ("最低得票率 50%；职级上限 不限") and how a typed value is read back (with Chinese messages).

The defaults themselves stay with the rule functions (``@rule("C02", min_vote_ratio=0.5, …)``); this
module says what they mean. ``tests/rules/test_rule_params.py`` proves every parameter of every rule
has an entry here.

Kinds: ``int`` (a whole number in ``unit``, between ``min`` and ``max``; ``optional`` allows none, shown
as ``none``), ``ratio`` (a share: typed as 50%, 2/3 or 0.5), ``bool``, ``choice`` (one of ``choices``),
``list`` (one entry a line), ``mapping`` (one ``名称：数值`` a line; an empty value is ``none``),
``range`` (two whole numbers, ``1-2``) and ``table`` (a structured table shown in words, set in the
catalogue rather than on the page).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from app.enums import GRADES
from app.spec import EDU


@dataclass(frozen=True)
class Param:
    label: str
    kind: str
    unit: str = ""
    min: int | None = 0
    max: int | None = None
    choices: tuple = ()  # (value, label) pairs of a choice
    optional: bool = False
    none: str = "不限"  # how no value reads
    help: str = ""


GRADE_CHOICES = tuple((g, g) for g in GRADES)
EDU_CHOICES = tuple((e, e) for e in EDU)


def _int(label, unit, lo=0, hi=None, **kw):
    return Param(label, "int", unit, lo, hi, **kw)


PARAMS: dict[str, Param] = {
    # 资格 Q
    "min_work_years": _int("最低工作年限", "年", 0, 40),
    "applies_from_grade": Param("适用起点职级", "choice", choices=GRADE_CHOICES, help="拟任职级达到此级及以上时适用"),
    "township_min_work_years": _int("乡科级最低工作年限", "年", 0, 40, optional=True, none="不检查"),
    "min_grassroots_years": _int("最低基层工作年限", "年", 0, 40),
    "min_lower_posts": _int("下一级职位最少数", "个", 0, 10),
    "min_years_deputy_to_principal": _int("副职提任正职最低任职年限", "年", 0, 20),
    "min_years_principal_to_upper_deputy": _int("下级正职提任上级副职最低任职年限", "年", 0, 20),
    "min_edu_county": Param("县处级最低学历", "choice", choices=EDU_CHOICES),
    "min_edu_bureau": Param("厅局级以上最低学历", "choice", choices=EDU_CHOICES),
    "min_edu_township": Param("乡科级最低学历", "choice", choices=EDU_CHOICES),
    "party_age_county": _int("县处级党内职务最低党龄", "年", 0, 40),
    "party_age_city_up": _int("地厅级以上党内职务最低党龄", "年", 0, 40),
    "party_age_branch_secretary": _int("基层党组织书记最低党龄", "年", 0, 40),
    "party_post_kinds": Param("党内职务类别", "list"),
    "min_years_since_last_promotion": _int("上次提拔后最短任职年限", "年", 0, 10),
    "max_grade_step": _int("一次提拔最多跨越职级", "级", 1, 6),
    "min_years_to_retirement": _int("距法定退休年龄最少年限", "年", 0, 10),
    "female_60_from_grade": Param("女干部60周岁退休的起点职级", "choice", choices=GRADE_CHOICES),
    "retirement_table": Param("法定退休年龄表（渐进式延迟退休）", "table"),
    "max_age": Param("各职级提拔年龄上限", "mapping", "岁", 18, 70),
    "forbidden_identities": Param("不得拟任的身份", "list"),
    "transfer_needed": Param("须先办理转任的身份", "list"),
    "organ_post_kinds": Param("机关领导职位类别", "list"),
    "transfer_selection_types": Param("视为转任的选任方式", "list"),
    # 条件 C
    "min_vote_ratio": Param("最低得票率", "ratio", "%"),
    "max_rank": _int("推荐排名上限", "位", 1, 1000, optional=True, none="按职位数加余量计算"),
    "max_rank_margin": _int("推荐排名余量（职位数之外）", "位", 0, 100),
    "lookback_years": _int("回溯年限", "年", 1, 20),
    "special_post_whitelist": Param("可不受限制的特殊岗位", "list"),
    "effect_period_table": Param("影响期（按处理、处分种类）", "mapping", "个月", 0, 120, none="按察看期另计"),
    "effect_period_above_former_level": Param("不得高于原职级的影响期", "mapping", "个月", 0, 120),
    "probation_months": _int("试用期", "个月", 1, 60),
    "covered_unit_types": Param("实行地域回避的单位类型", "list"),
    "levels": Param("实行地域回避的层级", "list"),
    # 纪律 D
    "grace_days": _int("宽限天数", "天", 0, 365),
    "window_days": _int("推定明确调整的提前天数", "天", 0, 730),
    "leader_titles": Param("主要领导职务名称", "list"),
    "max_batch": _int("非换届期间一次调整人数上限", "人", 1, 1000),
    "min_tenure_years": _int("正职最短任期", "年", 0, 10),
    "post_patterns": Param("正职职务名称规则（正则表达式）", "table"),
    "max_days": _int("最长天数", "天", 1, 3650),
    "authority_ceiling": Param("各类任免权限可任职级上限", "table"),
    "factor": _int("超出以往平均的倍数", "倍", 1, 100),
    "min_history": _int("比较所需以往批次最少数", "批", 1, 100),
    "min_size": _int("检查所需本批最少人数", "人", 1, 1000),
    # 程序 P
    "validity_days": _int("推荐结果有效期", "天", 1, 3650),
    "allowed_skip_reasons": Param("可不召开推荐会议的情形", "list"),
    "quorum": Param("到会人数最低比例", "ratio", "%"),
    "exempt_types": Param("不要求差额考察的选任方式", "list"),
    "min_team": _int("考察组最少人数", "人", 1, 20),
    "min_interviews": _int("考察谈话最少人数", "人", 1, 500),
    "valid_types": Param("有效的决定会议类型", "list"),
    "no_inspection_types": Param("不要求考察的选任方式", "list"),
    "approval_base": Param("同意票比例的计算基数", "choice",
                           choices=(("members_total", "应到会成员数"), ("members_present", "实到会成员数"))),
    "approval_ratio": Param("同意票须超过的比例", "ratio", "%"),
    "exempt_reasons": Param("可不公示的情形", "list"),
    "publicity_up_to_grade": Param("须公示的最高职级", "choice", choices=GRADE_CHOICES),
    "min_working_days": _int("公示期最少工作日", "个工作日", 1, 60),
    "probation_kinds": Param("实行试用期的职位类别", "list"),
    "max_grade": Param("实行试用期的最高职级", "choice", choices=GRADE_CHOICES),
    "review_grace_days": _int("试用期满考核的宽限天数", "天", 0, 365),
    "no_talk_types": Param("不要求任职谈话的选任方式", "list"),
    "resign_on_second_submission": Param("二次提交时须重新签字", "bool"),
    # 时限 T
    "first_submit_days": _int("初次提交时限", "天", 1, 365),
    "day_type": Param("天数计算方式", "choice", choices=(("calendar", "自然日"), ("working", "工作日"))),
    "second_submit_days": _int("二次提交时限", "天", 1, 365),
    "anchor": Param("二次提交时限的起算日", "choice",
                    choices=(("appointment_doc_date", "任职文件日期"), ("appointment_effective_date", "任职生效日期"))),
    "valid_days": _int("有效期", "天", 1, 3650),
    "lead_days": _int("提前备案天数", "天", 0, 365),
    "reply_working_days": _int("上级答复时限", "个工作日", 1, 365),
    "consent_months": _int("视为同意的期限", "个月", 1, 12),
    "makeup_months": _int("补训完成期限", "个月", 1, 60),
    "max_pending_days": _int("决定后待任职最长天数", "天", 1, 3650),
    # 一致性 X
    "compare_granularity": Param("出生日期比对精度", "choice", choices=(("month", "年月"), ("day", "年月日"))),
    "min_work_age": _int("参加工作最低年龄", "周岁", 10, 30),
    "min_join_age": _int("入党最低年龄", "周岁", 14, 40),
    "probation_years_range": Param("预备期（最短–最长）", "range", "年", 1, 5),
    "tolerance_days": _int("允许误差", "天", 0, 366),
}

# The same key means a more particular thing in one rule.
OVERRIDES: dict[tuple[str, str], Param] = {
    ("C03", "lookback_years"): _int("年度考核回溯年数", "年", 1, 3),
    ("C04", "lookback_years"): _int("年度考核回溯年数", "年", 1, 3),
    ("C07", "probation_months"): _int("留党察看期（另加 24 个月）", "个月", 1, 24),
    ("P38", "probation_months"): _int("试用期", "个月", 1, 60),
    ("D10", "max_days"): _int("执行党委决定的最长天数", "天", 1, 3650),
    ("T08", "max_days"): _int("决定后任职谈话的最长天数", "天", 1, 3650),
    ("T03", "valid_days"): _int("纪检监察机关意见有效期", "天", 1, 3650),
    ("T04", "valid_days"): _int("档案审核、个人事项查核有效期", "天", 1, 3650),
    ("X15", "tolerance_days"): _int("试用期满日期允许误差", "天", 0, 366),
    ("X19", "tolerance_days"): _int("任现职时间允许误差", "天", 0, 366),
}


def param(code: str, key: str) -> Param | None:
    return OVERRIDES.get((code, key)) or PARAMS.get(key)


# ---- showing a value ---------------------------------------------------------------------------------

def _number(value) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _percent(value) -> str:
    frac = Fraction(str(value))
    pct = frac * 100
    if pct.denominator == 1:
        return f"{pct.numerator}%"
    if frac.denominator <= 12:  # 2/3 reads better as a fraction
        return f"{frac.numerator}/{frac.denominator}（约 {float(pct):.1f}%）"
    return f"{float(pct):.2f}%"


def show_value(p: Param, value) -> str:
    """A value as people read it."""
    if value is None:
        return p.none
    if p.kind == "ratio":
        try:
            return _percent(value)
        except (ValueError, ZeroDivisionError):
            return str(value)
    if p.kind == "bool":
        return "是" if value else "否"
    if p.kind == "choice":
        return dict(p.choices).get(value, str(value))
    if p.kind == "int":
        return f"{_number(value)} {p.unit}".strip()
    if p.kind == "list":
        return "、".join(str(v) for v in value) if value else "无"
    if p.kind == "range" and isinstance(value, (list, tuple)) and len(value) == 2:
        return f"{value[0]}–{value[1]} {p.unit}".strip()
    if p.kind == "mapping" and isinstance(value, dict):
        return "；".join(f"{k} {p.none if v is None else _number(v) + ' ' + p.unit}".strip() for k, v in value.items())
    if p.kind == "table":
        return _table_text(value)
    return str(value)


def _table_text(value) -> str:
    if isinstance(value, dict):
        parts = []
        for k, v in value.items():
            if isinstance(v, dict):
                v = "，".join(f"{_TABLE_WORDS.get(kk, kk)} {'—' if vv is None else vv}" for kk, vv in v.items())
            elif isinstance(v, (list, tuple)):
                v = "、".join(str(x) for x in v)
            elif v is None:
                v = "不得任用"
            parts.append(f"{k}：{v}")
        return "；".join(parts)
    return str(value)


_TABLE_WORDS = {"base_age": "原退休年龄", "phase_from": "起始出生年月", "every_months": "每延迟1个月所需月数",
                "max_delay_months": "最多延迟月数"}


def show_params(code: str, params: dict) -> list[tuple[str, str]]:
    """(label, value in words) for each parameter of a rule."""
    out = []
    for key, value in params.items():
        p = param(code, key)
        out.append((p.label, show_value(p, value)) if p else (key, str(value)))
    return out


# ---- reading a typed value back ---------------------------------------------------------------------

def form_text(p: Param, value) -> str:
    """The text a form field shows for a value (the inverse of ``parse``)."""
    if value is None:
        return ""
    if p.kind == "ratio":
        frac = Fraction(str(value))
        pct = frac * 100
        return f"{pct.numerator}%" if pct.denominator == 1 else f"{frac.numerator}/{frac.denominator}"
    if p.kind == "bool":
        return "1" if value else "0"
    if p.kind == "list":
        return "\n".join(str(v) for v in value)
    if p.kind == "mapping":
        return "\n".join(f"{k}：{'' if v is None else _number(v)}" for k, v in value.items())
    if p.kind == "range":
        return f"{value[0]}-{value[1]}"
    return _number(value) if isinstance(value, (int, float)) else str(value)


class ParamError(ValueError):
    """A typed value that is not one: the message is Chinese."""


_INT = re.compile(r"[0-9]{1,9}")


def _whole(p: Param, text: str, what: str) -> int:
    if not _INT.fullmatch(text):
        raise ParamError(f"“{what}”应为整数（半角数字），实际为“{text[:40]}”")
    n = int(text)
    if p.min is not None and n < p.min or p.max is not None and n > p.max:
        raise ParamError(f"“{what}”应在 {p.min}–{p.max} {p.unit} 之间，实际为 {n}")
    return n


def parse(p: Param, text: str, default):
    """A typed value in the type of its default; ParamError with a Chinese message when it is not one."""
    text = (text or "").strip()
    if p.kind == "int":
        if not text:
            if p.optional:
                return None
            raise ParamError(f"请填写“{p.label}”")
        return _whole(p, text, p.label)
    if p.kind == "ratio":
        if not text:
            raise ParamError(f"请填写“{p.label}”")
        try:
            if text.endswith("%"):
                frac = Fraction(text[:-1].strip()) / 100
            else:
                frac = Fraction(text)
        except (ValueError, ZeroDivisionError):
            raise ParamError(f"“{p.label}”应为百分数（如 50%）或分数（如 2/3），实际为“{text[:40]}”") from None
        if not 0 <= frac <= 1:
            raise ParamError(f"“{p.label}”应在 0%–100% 之间")
        if isinstance(default, Fraction):
            return f"{frac.numerator}/{frac.denominator}"
        return float(frac)
    if p.kind == "bool":
        if text not in ("0", "1"):
            raise ParamError(f"请选择“{p.label}”")
        return text == "1"
    if p.kind == "choice":
        if text not in dict(p.choices):
            raise ParamError(f"“{p.label}”应为：{'、'.join(label for _, label in p.choices)}")
        return text
    if p.kind == "list":
        return [line.strip() for line in text.splitlines() if line.strip()]
    if p.kind == "mapping":
        out = {}
        for line in (x.strip() for x in text.splitlines()):
            if not line:
                continue
            name, sep, number = line.replace(":", "：").partition("：")
            name, number = name.strip(), number.strip()
            if not sep or not name:
                raise ParamError(f"“{p.label}”每行应为“名称：数值”，实际为“{line[:40]}”")
            out[name] = None if number in ("", p.none) else _whole(p, number, f"{p.label}·{name}")
        return out
    if p.kind == "range":
        parts = re.split(r"\s*[-–—至~]\s*", text)
        if len(parts) != 2:
            raise ParamError(f"“{p.label}”应为两个整数，如 1-2")
        low, high = (_whole(p, x, p.label) for x in parts)
        if low > high:
            raise ParamError(f"“{p.label}”的最短值不能大于最长值")
        return [low, high]
    raise ParamError(f"“{p.label}”是结构化参数，不在本页修改")


_TYPES = {"int": int, "bool": bool, "choice": str, "list": (list, tuple), "mapping": dict, "range": (list, tuple)}


def value_problem(p: Param, value, default) -> str | None:
    """What is wrong with a stored value (a version's JSON), in Chinese; None when nothing."""
    if value is None:
        return None if p.optional or default is None else f"请填写“{p.label}”"
    if p.kind == "table":
        return None if isinstance(value, type(default)) else f"“{p.label}”的结构应与默认值一致"
    if p.kind == "ratio":
        ok = not isinstance(value, bool) and isinstance(value, (int, float, str))
    else:
        ok = isinstance(value, _TYPES[p.kind]) and (p.kind != "int" or not isinstance(value, bool))
    if not ok:
        return f"“{p.label}”的值类型不对：{str(value)[:40]}"
    try:
        parse(p, str(value) if p.kind == "ratio" else form_text(p, value), default)
    except ParamError as exc:
        return str(exc)
    except (TypeError, ValueError, ZeroDivisionError, AttributeError, IndexError):
        return f"“{p.label}”的值无效：{str(value)[:40]}"
    return None


# ---- the basis in words -------------------------------------------------------------------------------

#: The catalogue marks how each basis was checked; the page says it in words.
MARKERS = {
    "V": "已核对原文",
    "S": "仅见二手资料",
    "M": "条文待核",
    "L": "地方规定，可按地区或单位设定",
}
_MARKER = re.compile(r"\[([VSML])(?:[，,]\s*([^\]]*))?\]")


def _marker_words(m: re.Match) -> str:
    detail = m.group(2)
    if detail:  # "V，2014年版第三十四条；S，2019年版" → 已核对原文：2014年版第三十四条；仅见二手资料：2019年版
        parts = []
        for part in re.split(r"[;；]\s*", f"{m.group(1)}，{detail}"):
            key, _, rest = part.partition("，")
            key = key.strip()
            parts.append(f"{MARKERS[key]}：{rest}" if key in MARKERS else part)
        return f"〔{'；'.join(parts)}〕"
    return f"〔{MARKERS[m.group(1)]}〕"


def basis_words(source: str) -> str:
    """The catalogue's basis with its markers in words: "条例2019 第八条(一) [S]" → "条例2019 第八条(一)〔仅见二手资料〕"."""
    text = _MARKER.sub(_marker_words, source or "")
    return re.sub(r"\s*;\s*", "；", text).replace(" 〔", "〔").strip()
