"""Module forms generated from the spec (人机对话): one field per item, typed as the spec says.

``form_for(module_key, extra)`` builds a WTForms class (``extra``: the case's custom items of the
module, ``app.record.custom_items.items_for``, typed and validated like the catalogued ones); ``values_from_form`` turns a submitted form into
the values format of app.record.data, and ``form_data_from_values`` the other way.
"""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from flask_wtf import FlaskForm
from wtforms import DateField, FileField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Optional

from app.record.data import Problem
from app.record.input_checks import ASCII_INT, shown
from app.spec import module

LONG_TEXT = {"resume", "motion_reason", "nomination_scope", "consult_scope", "publicity_scope", "alarm_codes"}
BOOL_CHOICES = [("", "—"), ("1", "是"), ("0", "否")]


def parse_person_line(line: str) -> dict | None:
    parts = [x.strip() for x in line.replace(",", "，").split("，")]
    if not parts or not parts[0]:
        return None
    person = {"name": parts[0]}
    if len(parts) > 1 and parts[1]:
        person["post"] = parts[1]
    if len(parts) > 2 and parts[2]:
        person["id_card_no"] = parts[2].upper()
    return person


class AsciiIntegerField(IntegerField):
    """An integer in ASCII digits: WTForms' int() also takes "１２３" and "٣"; the message is Chinese."""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        if not ASCII_INT.fullmatch(text) or len(text) > 20:
            raise ValueError(f"“{self.label.text.removesuffix('（必填）')}”应为整数（半角数字0–9），实际为“{shown(text)}”")
        self.data = int(text)


class IsoDateField(DateField):
    """A date as YYYY-MM-DD in ASCII digits (strptime also takes other scripts' digits)."""

    def process_formdata(self, valuelist):
        text = (valuelist[0] if valuelist else "").strip()
        self.data = None
        if not text:
            return
        try:
            if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
                raise ValueError
            self.data = dt.date.fromisoformat(text)
        except ValueError:
            raise ValueError(f"“{self.label.text.removesuffix('（必填）')}”应为日期（YYYY-MM-DD），实际为“{shown(text)}”") from None


def _field(item):
    label = item.label + ("（必填）" if item.required == "Y" else "")
    # The spec's validation notes are English developer text: the checks speak Chinese instead.
    kw = {"label": label, "description": item.help, "validators": [Optional()]}
    if item.kind == "unit":
        kw["description"] = "输入单位名称或代码可检索（只列出您权限范围内的单位），也可直接填写单位代码"
        return StringField(render_kw={"data-unit-picker": "1"}, **kw)
    if item.kind == "text":
        return TextAreaField(**kw) if item.key in LONG_TEXT else StringField(**kw)
    if item.kind == "int":
        return AsciiIntegerField(**kw)
    if item.kind == "date":
        return IsoDateField(**kw)
    if item.kind == "bool":
        return SelectField(choices=BOOL_CHOICES, **kw)
    if item.kind == "enum":
        return SelectField(choices=[("", "—")] + [(c, c) for c in item.choices], **kw)
    if item.kind == "enum*":
        return SelectMultipleField(choices=[(c, c) for c in item.choices], **kw)
    if item.kind == "person":
        kw["description"] = "姓名，职务，身份证号（后两项可省略）"
        return StringField(**kw)
    if item.kind == "person[]":
        kw["description"] = "每行一人：姓名，职务，身份证号（后两项可省略）"
        return TextAreaField(**kw)
    if item.kind == "file-ref":
        kw["description"] = "上传文件（PDF、图片、Word、Excel，单个不超过上限）"
        return FileField(**kw)
    raise ValueError(item.kind)


def editable_items(module_key: str, extra: tuple = ()):
    return [i for i in module(module_key).items if not i.system] + list(extra)


@lru_cache(maxsize=256)
def form_for(module_key: str, extra: tuple = ()):
    attrs = {
        "handler": StringField("经办人", validators=[Optional()]),
        "leader": StringField("责任领导", validators=[Optional()]),
    }
    for item in editable_items(module_key, extra):
        attrs[item.key] = _field(item)
    return type(f"{module_key.title()}Form", (FlaskForm,), attrs)


def values_from_form(form, module_key: str, extra: tuple = ()) -> tuple[dict, dict]:
    """(values for case_data, uploaded files by item key). Unchanged file items are left out."""
    values, files = {}, {}
    for item in editable_items(module_key, extra):
        field = form[item.key]
        data = field.data
        if item.kind == "bool":
            values[item.key] = None if data in ("", None) else data == "1"
        elif item.kind == "enum":
            values[item.key] = data or None
        elif item.kind == "enum*":
            values[item.key] = list(data) or None
        elif item.kind in ("text", "unit"):
            values[item.key] = (data or "").strip() or None
        elif item.kind == "person":
            values[item.key] = parse_person_line(data or "")
        elif item.kind == "person[]":
            people = [parse_person_line(line) for line in (data or "").splitlines()]
            values[item.key] = [p for p in people if p] or None
        elif item.kind == "file-ref":
            if data and getattr(data, "filename", ""):
                files[item.key] = data
        else:
            values[item.key] = data
    return values, files


def form_data_from_values(values: dict, module_key: str, extra: tuple = ()) -> dict:
    out = {}
    for item in editable_items(module_key, extra):
        v = values.get(item.key)
        if item.kind == "bool":
            out[item.key] = "" if v is None else ("1" if v else "0")
        elif item.kind == "person":
            out[item.key] = _line(v)
        elif item.kind == "person[]":
            out[item.key] = "\n".join(_line(p) for p in (v or []))
        elif item.kind == "file-ref":
            continue
        else:
            out[item.key] = v
    return out


def _line(p: dict | None) -> str:
    if not p:
        return ""
    parts = [p.get("name", ""), p.get("post", "") or "", p.get("id_card_no", "") or ""]
    while parts and not parts[-1]:
        parts.pop()
    return "，".join(parts)


def item_labels(module_key: str, extra=()) -> dict:
    """Item key → its label (and the step's handler and leader), for the summary's links."""
    return {"handler": "经办人", "leader": "责任领导", **{i.key: i.label for i in editable_items(module_key, extra)}}


def form_problems(form, module_key: str) -> list[Problem]:
    """The form's own refusals (a number or a date that does not parse) as problems of their items."""
    return [Problem(module_key, name, message) for name, messages in form.errors.items() if name != "csrf_token"
            for message in messages] + [Problem(module_key, "", "页面已过期，请刷新后重新填写")
                                        for _ in form.errors.get("csrf_token", [])[:1]]


def unique_problems(problems) -> list[Problem]:
    """Each problem once: completing a step reports a missing item both as missing and as invalid."""
    seen, out = set(), []
    for p in problems:
        if (p.key, p.message) not in seen:
            seen.add((p.key, p.message))
            out.append(p)
    return out
