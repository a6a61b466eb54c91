"""The condition language of custom rules (自定义规则): CEL, checked here, evaluated by the Rust ``cel`` package.

Why CEL through ``common-expression-language`` (docs/custom-rules.md): no ``eval``, no I/O, no loops but
the bounded macros over finite lists; about 1 µs per evaluation of a compiled program (cel-python, the
pure-Python implementation, measured 200 µs: too slow for 20 rules per case at 2,000 cases/s). Neither
library type-checks, so ``check`` does: it parses the vendored grammar (``cel.lark``) with lark, which
gives every node its line and column, and refuses with a Chinese message and the position an expression
that does not parse, names an unknown item or function, mixes a date with a number, or costs too much
(length, nesting, node count, nested list macros). What passes is then compiled by ``cel`` too.

At run time (``app.rules.cel_runtime``) a rule reads the variables it names, bound once per case in one
``cel.Context`` with the functions over the working calendar; dates are bound as day numbers, which is why
the checker allows dates no arithmetic of CEL's own (timestamp, duration, date methods) but the functions.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable

import cel
from lark import Lark, Token, Tree
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedEOF, UnexpectedToken

from app.spec import items_by_key

MAX_LENGTH = 2000  # characters
MAX_NESTING = 12  # brackets inside brackets
MAX_NODES = 300  # names, literals and operator names after parsing
MAX_MACRO_DEPTH = 2  # a list macro inside a list macro at most
LIST_BOUND = 20  # the size the cost estimate assumes for a list (history, multi-choice items)
MAX_WORKDAYS = 2600  # add_workdays(d, n): ten years of working days at most
MAX_ADD_DAYS = 36600  # add_days(d, n): a hundred years either way
MAX_COST = 20_000  # the estimate: nodes, each multiplied by LIST_BOUND per enclosing list macro

# CEL types as the checker names them
# A date is a type of its own here; at run time it is a day number (app.rules.cel_runtime), which is why
# the checker allows no arithmetic on dates but through the date functions.
TS, INT, DOUBLE, STRING, BOOL, LIST, MAP, NULL, DYN = (
    "date", "int", "double", "string", "bool", "list", "map", "null", "dyn")
TYPE_NAMES = {TS: "日期", INT: "整数", DOUBLE: "数值", STRING: "文字", BOOL: "是/否", LIST: "列表", MAP: "对象",
              NULL: "空值", DYN: "任意"}
KIND_TYPES = {"date": TS, "int": INT, "bool": BOOL, "text": STRING, "enum": STRING, "unit": DYN, "file-ref": DYN,
              "enum*": LIST, "person": MAP, "person[]": LIST}

# Variables besides the items: the dates of the evaluation and what the engine knows of other cases.
CONTEXT_VARIABLES = {
    "judged_on": (TS, "评判日期（决定日期，无则动议日期，再无则评估日期）"),
    "today": (TS, "评估日期"),
    "unit": (MAP, "报送单位：code 代码、level 层级、unit_type 类型、region_code 地区代码、max_grade 最高职级、authority 任免权限"),
    "target_unit": (MAP, "拟任单位（字段同 unit）"),
    "person_cases": (LIST, "同一人的其他案例（新的在前）：case_no、status、decision_date、decision_result、target_post、"
                           "target_grade、selection_type、appointment_effective_date 等"),
    "parallel_open": (INT, "同一人其他未办结案例数"),
    "batch_size": (INT, "同一次会议决定的案例数"),
}

# name → (argument types, result type, Chinese description); DYN accepts anything
FUNCTIONS = {
    "workdays": ((TS, TS), INT, "两个日期之间的工作日数（含首尾，按工作日历；后者早于前者为 0）"),
    "add_workdays": ((TS, INT), TS, "某日之后第 n 个工作日（按工作日历）"),
    "add_days": ((TS, INT), TS, "某日之后第 n 天（自然日，n 为负数时向前）"),
    "days": ((TS, TS), INT, "两个日期相差的自然日数（后者减前者）"),
    "months": ((TS, TS), INT, "两个日期相差的整月数"),
    "years": ((TS, TS), INT, "两个日期相差的整年数（周岁算法）"),
    "date": ((STRING,), TS, "日期常量，如 date('2024-01-01')"),
    "is_working_day": ((TS,), BOOL, "是否工作日（按工作日历）"),
    "year": ((TS,), INT, "日期的年份"), "month": ((TS,), INT, "日期的月份（1–12）"), "day": ((TS,), INT, "日期是当月第几日"),
    # CEL built-ins
    "size": ((DYN,), INT, "长度/个数"), "int": ((DYN,), INT, ""), "double": ((DYN,), DOUBLE, ""),
    "string": ((DYN,), STRING, ""),
}
# CEL's own time types are not the language's: its dates are days (why: app.rules.cel_runtime).
NOT_HERE = {
    "timestamp": "不支持 timestamp()：日期常量请写 date('2024-01-01')",
    "duration": "不支持 duration()：日期加减请用 add_days(日期, n) 或 add_workdays(日期, n)，相差天数请用 days(a, b)",
}
DATE_METHODS = ("getFullYear", "getMonth", "getDayOfMonth", "getDate", "getDayOfWeek", "getDayOfYear", "getHours",
                "getMinutes", "getSeconds", "getMilliseconds")
METHODS = {"size": INT, "contains": BOOL, "startsWith": BOOL, "endsWith": BOOL, "matches": BOOL}
MACROS = ("all", "exists", "exists_one", "map", "filter")


# Providers of further items: key → (item kind, Chinese label). The custom items (自定义数据项) live in the
# database, above this layer; create_app registers their provider (app.record.custom_items.cel_items).
_ITEM_PROVIDERS: dict[str, Callable[[], dict[str, tuple[str, str]]]] = {}


def register_items(provider: Callable[[], dict[str, tuple[str, str]]]) -> None:
    _ITEM_PROVIDERS[f"{provider.__module__}.{provider.__qualname__}"] = provider


def known_items() -> dict[str, tuple[str, str]]:
    """Every item a condition may read: key → (CEL type, Chinese label). The one list the checker
    trusts: the catalogue's items, then the registered providers' (a catalogued key always wins)."""
    out = {key: (KIND_TYPES.get(spec.kind, DYN), spec.label) for key, spec in items_by_key().items()}
    for provider in _ITEM_PROVIDERS.values():
        for key, (kind, label) in provider().items():
            out.setdefault(key, (KIND_TYPES.get(kind, DYN), label))
    return out


def provided_label(key: str) -> str | None:
    """The Chinese label of an item a registered provider supplies (a custom item), without building the
    whole ``known_items`` list (a rule's 不适用 reason asks per missing item)."""
    for provider in _ITEM_PROVIDERS.values():
        found = provider().get(key)
        if found is not None:
            return found[1]
    return None


def variables() -> dict[str, tuple[str, str]]:
    return {**known_items(), **CONTEXT_VARIABLES}


@dataclass(frozen=True)
class Problem:
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"第 {self.line} 行第 {self.column} 列：{self.message}"


class _Refused(Exception):
    def __init__(self, problem: Problem):
        super().__init__(str(problem))
        self.problem = problem


@lru_cache(maxsize=1)
def _parser() -> Lark:
    def literal(token: Token) -> Token:
        return Token("BOOL_LIT", token.value) if token.value in ("true", "false") else token

    grammar = (Path(__file__).with_name("cel.lark")).read_text(encoding="utf-8")
    return Lark(grammar, parser="lalr", start="expr", g_regex_flags=re.M, lexer_callbacks={"IDENT": literal},
                propagate_positions=True, maybe_placeholders=False, priority="invert")


def _where(text: str, index: int) -> tuple[int, int]:
    before = text[:index]
    return before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1


def _nesting(text: str) -> Problem | None:
    depth, quote = 0, None
    for i, ch in enumerate(text):
        if quote:
            if ch == quote and text[i - 1] != "\\":
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                return Problem(*_where(text, i), f"括号嵌套超过 {MAX_NESTING} 层，表达式过于复杂")
        elif ch in ")]}":
            depth -= 1
    return None


def check(text: str, names: dict | None = None) -> list[Problem]:
    """What is wrong with a condition, [] when nothing: each problem with its line and column."""
    text = text or ""
    if not text.strip():
        return [Problem(1, 1, "条件表达式不能为空")]
    if len(text) > MAX_LENGTH:
        return [Problem(*_where(text, MAX_LENGTH), f"表达式过长：{len(text)} 个字符，上限 {MAX_LENGTH}")]
    deep = _nesting(text)
    if deep:
        return [deep]
    try:
        tree = _parser().parse(text)
    except UnexpectedCharacters as exc:
        return [Problem(exc.line, exc.column, f"无法识别的字符“{text[exc.pos_in_stream]}”")]
    except UnexpectedEOF:
        return [Problem(*_where(text, len(text)), "表达式不完整：结尾缺少内容")]
    except UnexpectedToken as exc:
        if exc.token.type == "$END":
            return [Problem(*_where(text, len(text)), "表达式不完整：结尾缺少内容")]
        return [Problem(exc.line, exc.column, f"语法错误：此处不应出现“{exc.token.value}”")]
    except LarkError as exc:
        return [Problem(1, 1, f"语法错误：{exc}")]
    nodes = sum(1 for _ in tree.scan_values(lambda v: isinstance(v, Token)))
    if nodes > MAX_NODES:
        return [Problem(1, 1, f"表达式过于复杂：{nodes} 个名称与常量，上限 {MAX_NODES}")]
    checker = _Checker(text, names if names is not None else variables())
    try:
        result = checker.type_of(tree, frozenset())
        if result not in (BOOL, DYN):
            raise _Refused(Problem(1, 1, f"条件的结果应为 true/false，实际为{TYPE_NAMES[result]}"))
        if checker.cost > MAX_COST:
            raise _Refused(Problem(*checker.costly_at, f"表达式执行代价过高（估算 {checker.cost}，上限 {MAX_COST}）："
                                                       f"请减少列表宏（all/exists/map/filter）的嵌套"))
    except _Refused as exc:
        return [exc.problem]
    try:
        cel.compile(text)
    except Exception as exc:  # noqa: BLE001 - the runtime's parser is the last word
        return [Problem(1, 1, f"语法错误：{str(exc).splitlines()[0]}")]
    return []


def _pos(node) -> tuple[int, int]:
    if isinstance(node, Token):
        return node.line or 1, node.column or 1
    meta = getattr(node, "meta", None)
    if meta is not None and not meta.empty:
        return meta.line, meta.column
    for child in getattr(node, "children", ()):
        return _pos(child)
    return 1, 1


class _Checker:
    def __init__(self, text: str, names: dict):
        self.text, self.names = text, names
        self.cost, self.costly_at, self.macro_depth = 0, (1, 1), 0

    def refuse(self, node, message: str):
        raise _Refused(Problem(*(node if isinstance(node, tuple) else _pos(node)), message))

    def after(self, op) -> tuple[int, int]:
        """Where the operator of a binary node is: the first character after its left operand."""
        left = op.children[0]
        i = left.meta.end_pos if isinstance(left, Tree) and not left.meta.empty else 0
        while i < len(self.text) and self.text[i].isspace():
            i += 1
        return _where(self.text, i)

    def type_of(self, node, bound: frozenset) -> str:  # noqa: C901 - one branch per grammar rule
        if isinstance(node, Token):
            return DYN
        self.cost += LIST_BOUND ** self.macro_depth if node.data in ("ident", "literal") else 0
        if self.cost > MAX_COST and self.costly_at == (1, 1):
            self.costly_at = _pos(node)
        kids = node.children
        name = node.data
        if name == "expr":
            if len(kids) == 1:
                return self.type_of(kids[0], bound)
            self.type_of(kids[0], bound)
            a, b = self.type_of(kids[1], bound), self.type_of(kids[2], bound)
            return a if a == b else DYN
        if name in ("conditionalor", "conditionaland"):
            if len(kids) == 1:
                return self.type_of(kids[0], bound)
            for kid in kids:
                t = self.type_of(kid, bound)
                if t not in (BOOL, DYN, NULL):
                    self.refuse(kid, f"“&&”“||”的两边应为 true/false，此处是{TYPE_NAMES[t]}")
            return BOOL
        if name in ("relation", "addition", "multiplication"):
            if len(kids) == 1:
                return self.type_of(kids[0], bound)
            op, right = kids
            left_t = self.type_of(op.children[0], bound)
            right_t = self.type_of(right, bound)
            return self.operator(op, op.data.split("_", 1)[1], left_t, right_t)
        if name == "unary":
            if len(kids) == 1:
                return self.type_of(kids[0], bound)
            t = self.type_of(kids[1], bound)
            if kids[0].data == "unary_not" and t not in (BOOL, DYN):
                self.refuse(kids[1], f"“!”只能用于 true/false，此处是{TYPE_NAMES[t]}")
            if kids[0].data == "unary_neg" and t not in (INT, DOUBLE, DYN):
                self.refuse(kids[1], f"负号只能用于数字，此处是{TYPE_NAMES[t]}")
            return t
        if name in ("member", "primary", "paren_expr"):
            return self.type_of(kids[0], bound)
        if name == "literal":
            kind = kids[0].type
            return {"INT_LIT": INT, "UINT_LIT": INT, "FLOAT_LIT": DOUBLE, "STRING_LIT": STRING,
                    "MLSTRING_LIT": STRING, "BOOL_LIT": BOOL, "NULL_LIT": NULL}.get(kind, DYN)
        if name == "ident":
            ident = kids[0].value
            if ident in bound:
                return DYN
            if ident == "null":
                return NULL
            if ident not in self.names:
                self.refuse(node, f"未知数据项“{ident}”：请使用数据项的英文键名（编辑页列出全部数据项）")
            return self.names[ident][0]
        if name == "member_dot":
            t = self.type_of(kids[0], bound)
            if t not in (MAP, DYN):
                self.refuse(kids[1], f"{TYPE_NAMES[t]}没有字段“{kids[1].value}”")
            return DYN
        if name == "member_index":
            self.type_of(kids[0], bound)
            self.type_of(kids[1], bound)
            return DYN
        if name == "list_lit":
            for kid in kids:
                self.type_of(kid, bound)
            return LIST
        if name == "map_lit":
            for kid in kids:
                self.type_of(kid, bound)
            return MAP
        if name in ("exprlist", "mapinits"):
            for kid in kids:
                self.type_of(kid, bound)
            return DYN
        if name == "ident_arg":
            return self.function(node, kids[0], kids[1].children if len(kids) > 1 else [], bound)
        if name == "member_dot_arg":
            return self.method(node, kids[0], kids[1], kids[2].children if len(kids) > 2 else [], bound)
        self.refuse(node, "不支持的写法（类型构造或以“.”开头的名称）")
        return DYN

    def operator(self, op, kind: str, a: str, b: str) -> str:
        at = self.after(op)
        pair = {a, b}
        if kind in ("lt", "le", "gt", "ge", "eq", "ne"):
            if TS in pair and pair & {INT, DOUBLE}:
                self.refuse(at, "日期不能与数字比较：请比较两个日期，或用 days()/workdays()/years() 先算出天数、年数")
            if TS in pair and STRING in pair:
                self.refuse(at, "日期不能与文字比较：日期常量请写 date('2024-01-01')")
            known = pair - {DYN, NULL}
            if kind in ("lt", "le", "gt", "ge") and (BOOL in known or LIST in known or MAP in known):
                self.refuse(at, f"{TYPE_NAMES[sorted(known & {BOOL, LIST, MAP})[0]]}不能比较大小")
            if len(known) == 2 and known != {INT, DOUBLE}:
                x, y = sorted(known)
                self.refuse(at, f"{TYPE_NAMES[x]}不能与{TYPE_NAMES[y]}比较")
            return BOOL
        if kind == "in":
            if b not in (LIST, MAP, DYN):
                self.refuse(at, f"“in”的右边应为列表，此处是{TYPE_NAMES[b]}")
            return BOOL
        if kind in ("add", "sub") and TS in pair:
            if pair & {INT, DOUBLE}:
                self.refuse(at, "日期不能与数字相加减：请用 add_days(日期, n) 或 add_workdays(日期, n)")
            if kind == "sub" and a == b == TS:
                self.refuse(at, "两个日期不能直接相减：相差天数请用 days(a, b)，工作日数请用 workdays(a, b)")
            self.refuse(at, "日期不能直接加减：请用 add_days(日期, n) 或 add_workdays(日期, n)")
        if TS in pair and kind in ("mul", "div", "mod"):
            self.refuse(at, "日期不能做乘除运算")
        if {a, b} <= {INT, DOUBLE, DYN}:
            return DOUBLE if DOUBLE in pair else (INT if pair == {INT} else DYN)
        if kind == "add" and a == b and a in (STRING, LIST):
            return a
        if DYN in pair:
            return DYN
        self.refuse(at, f"{TYPE_NAMES[a]}与{TYPE_NAMES[b]}不能做此运算")
        return DYN

    def function(self, node, ident: Token, args: list, bound: frozenset) -> str:
        name = ident.value
        if name == "has":
            if len(args) != 1 or args[0].data != "expr":
                self.refuse(node, "has() 只接受一个字段，如 has(unit.region_code)")
            return BOOL
        if name in NOT_HERE:
            self.refuse(ident, NOT_HERE[name])
        if name not in FUNCTIONS:
            self.refuse(ident, f"未知函数“{name}”（可用：{'、'.join(sorted(FUNCTIONS))}）")
        wanted, result, _label = FUNCTIONS[name]
        if len(args) != len(wanted):
            self.refuse(ident, f"函数 {name}() 需要 {len(wanted)} 个参数，实际 {len(args)} 个")
        for arg, want in zip(args, wanted):
            got = self.type_of(arg, bound)
            if want != DYN and got not in (want, DYN, NULL):
                self.refuse(arg, f"函数 {name}() 的参数应为{TYPE_NAMES[want]}，此处是{TYPE_NAMES[got]}")
            if want == DYN and got == TS and name in ("int", "double", "string", "size"):
                self.refuse(arg, f"函数 {name}() 不能用于日期：年份、月份、日请用 year()、month()、day()")
        if name == "date" and args:
            literal = self.text[args[0].meta.start_pos:args[0].meta.end_pos].strip().strip("'\"")
            try:
                dt.date.fromisoformat(literal)
            except ValueError:
                self.refuse(args[0], f"日期常量“{literal}”不是 YYYY-MM-DD 格式的有效日期")
        return result

    def method(self, node, target, ident: Token, args: list, bound: frozenset) -> str:
        name = ident.value
        if name in MACROS:
            self.type_of(target, bound)
            if not args or not _is_ident(args[0]):
                self.refuse(ident, f"{name}() 的第一个参数应为变量名，如 person_cases.{name}(c, ...)")
            if self.macro_depth >= MAX_MACRO_DEPTH:
                self.refuse(ident, f"列表宏嵌套超过 {MAX_MACRO_DEPTH} 层，执行代价过高")
            self.macro_depth += 1
            try:
                body = [self.type_of(a, bound | {_ident_name(args[0])}) for a in args[1:]]
            finally:
                self.macro_depth -= 1
            return LIST if name in ("map", "filter") else (BOOL if body else DYN)
        if name in DATE_METHODS:
            self.refuse(ident, f"不支持 {name}()：年份、月份、日请用 year(日期)、month(日期)、day(日期)")
        if name not in METHODS:
            self.refuse(ident, f"未知方法“{name}”（可用：{'、'.join(sorted(METHODS) + list(MACROS))}）")
        self.type_of(target, bound)
        for arg in args:
            self.type_of(arg, bound)
        return METHODS[name]


def _unwrap(node):
    while isinstance(node, Tree) and len(node.children) == 1 and node.data != "ident":
        node = node.children[0]
    return node


def _is_ident(node) -> bool:
    node = _unwrap(node)
    return isinstance(node, Tree) and node.data == "ident"


def _ident_name(node) -> str:
    return _unwrap(node).children[0].value
