"""Corrections to the OpenAPI document FAB generates for our model APIs (/api/v1/_openapi), so
that clients generated from it, and schemathesis (tests/test_openapi_fuzz.py), can take it at its word.

- FAB's docstrings describe ``ids`` of a list and ``id`` of an item as strings (our keys are
  integers), and ``add_columns``/``edit_columns`` of ``_info`` as objects (FAB answers lists).
- Timestamps are documented as RFC 3339 ``date-time`` but were sent without an offset: they are
  stored in UTC (app.models.audit.utcnow), so they are now sent with ``+00:00``.
"""
from __future__ import annotations

import copy
import datetime as dt
from functools import lru_cache

import sqlalchemy as sa
import yaml
from apispec import yaml_utils
from flask_appbuilder import ModelRestApi
from marshmallow import fields
from marshmallow_sqlalchemy import ModelConverter


class UtcDateTime(fields.DateTime):
    """A naive UTC column value, sent (and read) as an RFC 3339 time with its offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return super()._serialize(value, attr, obj, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        value = super()._deserialize(value, attr, data, **kwargs)
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value


def use_utc_datetimes() -> None:
    """Before FAB builds its model schemas (the APIs' __init__)."""
    ModelConverter.SQLA_TYPE_MAPPING[sa.DateTime] = UtcDateTime


def _fab_operation(method: str, class_name: str) -> dict:
    doc = yaml_utils.load_operations_from_docstring(getattr(ModelRestApi, method).__doc__)
    return yaml.safe_load(str(doc).replace("{{self.__class__.__name__}}", class_name))["get"]


def _ok_schema(operation: dict) -> dict:
    responses = operation["responses"]
    return responses.get(200, responses.get("200"))["content"]["application/json"]["schema"]


@lru_cache(maxsize=None)
def _fixed(class_name: str) -> dict:
    get_list = _fab_operation("get_list", class_name)
    _ok_schema(get_list)["properties"]["ids"]["items"] = {"type": "integer"}
    get = _fab_operation("get", class_name)
    _ok_schema(get)["properties"]["id"] = {"type": "integer", "description": "The item id"}
    info = _fab_operation("info", class_name)
    props = _ok_schema(info)["properties"]
    for key in ("add_columns", "edit_columns"):
        props[key] = {"type": "array", "items": {"type": "object"}}
    return {"get_list": {"get": {"responses": get_list["responses"]}},
            "get": {"get": {"responses": get["responses"]}},
            "info": {"get": {"responses": info["responses"]}}}


def fixed_spec_methods(class_name: str) -> dict:
    """For ``openapi_spec_methods``: FAB merges these over the operations it documents."""
    return copy.deepcopy(_fixed(class_name))
