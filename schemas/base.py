"""Shared schema behaviour: strict loading, clean strings, RealWorld timestamps."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from schemas.fastdump import FastDumpMixin, format_timestamp

# PostgreSQL rejects NUL in text; no control character belongs in a name or a title, and
# free text keeps only tab and newlines. As regexes they are checked AND documented (`pattern`).
_LINE_CHAR = r"[^\x00-\x1f\x7f]"
_TEXT_CHAR = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"
# Whitespace as JSON Schema (ECMA-262) `\s` knows it, spelled out: Python's `\s` differs (U+0085).
WHITESPACE = r"\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_VISIBLE = rf"[^{WHITESPACE}\x00-\x1f\x7f]"
LINE_PATTERN = rf"^{_LINE_CHAR}*{_VISIBLE}{_LINE_CHAR}*$"
TEXT_PATTERN = rf"^{_TEXT_CHAR}*$"
VISIBLE_TEXT_PATTERN = rf"^{_TEXT_CHAR}*{_VISIBLE}{_TEXT_CHAR}*$"
_STRIPPED = (
    "".join(
        chr(c)
        for c in [9, 10, 11, 12, 13, 32, 0xA0, 0x1680, *range(0x2000, 0x200B), 0x2028, 0x2029]
    )
    + "\u202f\u205f\u3000\ufeff"
)
INT32_MAX = 2**31 - 1


class FullMatch(validate.Regexp):
    """A regex that must match the whole value (Python's `$` would allow a final newline)."""

    def __call__(self, value: Any) -> Any:
        if self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


class Schema(FastDumpMixin, ma.Schema):
    """Base schema: unknown fields are an error, so nothing can be mass-assigned; dumps fast."""

    class Meta:
        unknown = ma.RAISE


class Line(fields.String):
    """One line of visible text without control characters; surrounding spaces are trimmed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not any(isinstance(v, validate.Regexp) for v in self.validators):
            self.validators.insert(
                0, FullMatch(LINE_PATTERN, error="can't be blank or contain control characters")
            )

    def deserialize(self, *args: Any, **kwargs: Any) -> Any:
        # Validated as sent (so the documented limits hold), stored trimmed.
        value = super().deserialize(*args, **kwargs)
        return value.strip(_STRIPPED) if isinstance(value, str) else value


class Text(fields.String):
    """Free text (tabs and newlines allowed) without other control characters."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        pattern, error = (
            (VISIBLE_TEXT_PATTERN, "can't be blank or contain control characters")
            if self.required
            else (TEXT_PATTERN, "must not contain control characters")
        )
        self.validators.insert(0, FullMatch(pattern, error=error))


class Timestamp(fields.DateTime):
    """ISO 8601 in UTC with milliseconds and a `Z`, as the RealWorld examples show."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format_timestamp(value)


def length(max_: int, min_: int = 1) -> validate.Length:
    return validate.Length(min=min_, max=max_)
