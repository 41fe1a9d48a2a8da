"""Shared schema behaviour: strict loading, clean strings, RealWorld timestamps."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

from schemas.fastdump import FastDumpMixin, format_timestamp

# PostgreSQL rejects NUL in text; no control character belongs in a name or a title, and
# free text keeps only tab and newlines. The rules are documented as `pattern`s, and checked
# by `CharacterRule` in linear time (the patterns themselves backtrack quadratically).
_LINE_CONTROL = r"\x00-\x1f\x7f"
_TEXT_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"
_LINE_CHAR = rf"[^{_LINE_CONTROL}]"
_TEXT_CHAR = rf"[^{_TEXT_CONTROL}]"
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


class CharacterRule(validate.Regexp):
    """A documented `pattern` of the shape `^[allowed]*[visible][allowed]*$`, checked in linear time.

    Two single-class scans decide the same language: no character outside `allowed` (the
    `forbidden` class), and, when `visible` is given, at least one visible character.
    """

    def __init__(
        self, pattern: str, *, forbidden: str, visible: str | None = None, error: str
    ) -> None:
        super().__init__(pattern, error=error)
        self._forbidden = re.compile(f"[{forbidden}]")
        self._visible = re.compile(visible) if visible else None

    def __call__(self, value: Any) -> Any:
        if self._forbidden.search(value) is not None or (
            self._visible is not None and self._visible.search(value) is None
        ):
            raise ma.ValidationError(self._format_error(value))
        return value


def line_rule(error: str) -> CharacterRule:
    return CharacterRule(LINE_PATTERN, forbidden=_LINE_CONTROL, visible=_VISIBLE, error=error)


def text_rule(error: str, *, visible: bool) -> CharacterRule:
    if visible:
        return CharacterRule(
            VISIBLE_TEXT_PATTERN, forbidden=_TEXT_CONTROL, visible=_VISIBLE, error=error
        )
    return CharacterRule(TEXT_PATTERN, forbidden=_TEXT_CONTROL, error=error)


class LengthFirst(fields.Field):  # type: ignore[type-arg]
    """Check length limits before any other rule: an oversized value is refused unscanned."""

    def _validate(self, value: Any) -> None:
        for validator in self.validators:
            if isinstance(validator, validate.Length):
                validator(value)
        super()._validate(value)


class String(LengthFirst, fields.String):
    """A string whose length limits are checked before its other rules."""


class Schema(FastDumpMixin, ma.Schema):
    """Base schema: unknown fields are an error, so nothing can be mass-assigned; dumps fast."""

    class Meta:
        unknown = ma.RAISE


class Line(String):
    """One line of visible text without control characters; surrounding spaces are trimmed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not any(isinstance(v, validate.Regexp) for v in self.validators):
            self.validators.append(line_rule("can't be blank or contain control characters"))

    def deserialize(self, *args: Any, **kwargs: Any) -> Any:
        # Validated as sent (so the documented limits hold), stored trimmed.
        value = super().deserialize(*args, **kwargs)
        return value.strip(_STRIPPED) if isinstance(value, str) else value


class Text(String):
    """Free text (tabs and newlines allowed) without other control characters."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        error = (
            "can't be blank or contain control characters"
            if self.required
            else "must not contain control characters"
        )
        self.validators.append(text_rule(error, visible=self.required))


class Timestamp(fields.DateTime):
    """ISO 8601 in UTC with milliseconds and a `Z`, as the RealWorld examples show."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format_timestamp(value)


def length(max_: int, min_: int = 1) -> validate.Length:
    return validate.Length(min=min_, max=max_)
