"""Shared schema behaviour: strict loading, clean strings, RealWorld timestamps."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

# PostgreSQL rejects NUL in text; other control characters have no place in a name or title.
_LINE_FORBIDDEN = re.compile(r"[\x00-\x1f\x7f]")
_TEXT_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
INT32_MAX = 2**31 - 1


class Schema(ma.Schema):
    """Base schema: unknown fields are an error, so nothing can be mass-assigned."""

    class Meta:
        unknown = ma.RAISE


class Line(fields.String):
    """A single line of text, trimmed, with no control characters; blank counts as missing."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if _LINE_FORBIDDEN.search(text):
            raise ma.ValidationError("must not contain control characters")
        text = text.strip()
        if not text and self.required:
            raise ma.ValidationError("can't be blank")
        return text


class Text(fields.String):
    """Free text (newlines and tabs allowed) with no NUL or other control characters."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        text = super()._deserialize(value, attr, data, **kwargs)
        if _TEXT_FORBIDDEN.search(text):
            raise ma.ValidationError("must not contain control characters")
        if self.required and not text.strip():
            raise ma.ValidationError("can't be blank")
        return text


class Timestamp(fields.DateTime):
    """ISO 8601 in UTC with milliseconds and a `Z`, as the RealWorld examples show."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        if value is None:
            return None
        moment: datetime = value if value.tzinfo else value.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def length(max_: int, min_: int = 1) -> validate.Length:
    return validate.Length(min=min_, max=max_)
