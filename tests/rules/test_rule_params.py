"""The rule parameters for people (app/spec/rule_params.py): every parameter of every rule has a Chinese
label, a kind and a range; values are shown in words and read back with Chinese messages."""
from fractions import Fraction

import pytest

from app.rules.catalog import all_rules
from app.spec.rule_params import ParamError, basis_words, form_text, param, parse, show_params, show_value

CJK = "\u4e00-\u9fff"


def _all_params():
    return [(code, key, value) for code, rule in sorted(all_rules().items()) for key, value in rule.params.items()]


def test_every_parameter_of_every_rule_has_a_chinese_label_and_a_kind():
    import re

    missing = [(code, key) for code, key, _ in _all_params() if param(code, key) is None]
    assert missing == []
    for code, key, _ in _all_params():
        p = param(code, key)
        assert re.search(f"[{CJK}]", p.label) and not re.search("[A-Za-z_]", p.label), (code, key, p.label)
        assert p.kind in ("int", "ratio", "bool", "choice", "list", "mapping", "range", "table"), (code, key)
        if p.kind == "int":
            assert p.unit and p.max is not None, (code, key)


@pytest.mark.parametrize("code,key,value", [x for x in _all_params() if param(x[0], x[1]).kind != "table"],
                         ids=[f"{c}-{k}" for c, k, _ in _all_params() if param(c, k).kind != "table"])
def test_each_default_survives_the_form(code, key, value):
    p = param(code, key)
    back = parse(p, form_text(p, value), value)
    if isinstance(value, Fraction):
        back = Fraction(back)
    assert back == (list(value) if isinstance(value, tuple) else value)


def test_parameters_read_in_chinese_not_as_code():
    shown = "；".join(f"{label} {value}" for label, value in show_params("C02", all_rules()["C02"].params))
    assert shown.startswith("最低得票率 50%")
    assert "min_vote_ratio" not in shown and "None" not in shown and "=" not in shown
    assert show_value(param("P27", "quorum"), Fraction(2, 3)).startswith("2/3")
    assert show_value(param("T01", "day_type"), "working") == "工作日"
    assert show_value(param("Q01", "township_min_work_years"), None) == "不检查"


@pytest.mark.parametrize("code,key,text,words", [
    ("Q01", "min_work_years", "五年", "整数"),
    ("Q01", "min_work_years", "99", "0–40"),
    ("Q01", "min_work_years", "", "请填写"),
    ("C02", "min_vote_ratio", "150%", "0%–100%"),
    ("C02", "min_vote_ratio", "很多", "百分数"),
    ("T01", "day_type", "weekly", "自然日"),
    ("Q19", "max_age", "县处级副职 五十", "名称：数值"),
    ("X06", "probation_years_range", "3-1", "最短"),
])
def test_a_wrong_value_is_told_in_chinese(code, key, text, words):
    p = param(code, key)
    with pytest.raises(ParamError, match=words):
        parse(p, text, all_rules()[code].params[key])


def test_a_ratio_is_typed_as_a_percentage_or_a_fraction():
    p = param("P27", "quorum")
    assert parse(p, "2/3", Fraction(2, 3)) == "2/3"
    assert parse(p, "75%", Fraction(2, 3)) == "3/4"
    assert parse(param("C02", "min_vote_ratio"), "60%", 0.5) == 0.6


def test_the_basis_is_in_chinese_and_its_markers_in_words():
    import re

    for code, rule in all_rules().items():
        text = basis_words(rule.basis)
        assert not re.search(r"\[[SMVL]", text), (code, text)
        # what is left in Latin letters is a standard's designation (GB 11643), never an English phrase
        assert not re.search(r"[A-Za-z]{3,}", text), (code, text)
    assert basis_words("条例2019 第八条(一) [S]") == "条例2019 第八条(一)〔仅见二手资料〕"
