"""One base for every schema, and the few shapes shared by many: responses, model-backed
responses, partial updates. Field types and text rules are in `schemas/fields.py`."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow_sqlalchemy import SQLAlchemySchema

from schemas.fastdump import FastDumpMixin


class Schema(FastDumpMixin, ma.Schema):
    """Base schema: fields a body does not define are ignored (upstream allows additional
    properties; the official frontends send read-only fields back), so only declared fields
    can ever be assigned. Dumps fast."""

    class Meta:
        unknown = ma.EXCLUDE

    error_messages = {"type": "must be an object"}


class ResponseSchema(Schema):
    """A response body: documented closed (`additionalProperties: false`), so a client knows
    every field it may get. (Never loaded: `unknown` only shapes the spec.)"""

    class Meta:
        unknown = ma.RAISE


class ModelSchema(ResponseSchema, SQLAlchemySchema[Any]):
    """A response object whose `auto_field`s take type, length and nullability from the
    columns of `Meta.model` (declare `class Meta(ModelSchema.Meta)` to keep it closed)."""


class PartialUpdate(Schema):
    """An update body: any subset of its fields, but at least one (`minProperties: 1`)."""

    OPENAPI_EXTRA = {"minProperties": 1}

    @ma.pre_load
    def _not_empty(self, data: Any, **_kwargs: Any) -> Any:
        if isinstance(data, dict) and not data:
            # Fields this body does not define count: they are ignored, not absent.
            raise ma.ValidationError("must name at least one field to change", "_schema")
        return data
