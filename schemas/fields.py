"""Field types, text rules and messages: what a value must look like, said the RealWorld way.

Every message here is short and in the RealWorld style ("can't be blank", "is too long
(maximum is 255 characters)"): `api/errors.py` files it under the field's wire name, so a
client printing `key + " " + message` shows "title can't be blank".
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from marshmallow import fields, validate

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

BLANK = "can't be blank"
INVALID = "is invalid"
CONTROL = "must not contain control characters"


def format_timestamp(value: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and a `Z`; naive values are taken as UTC."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="milliseconds") + "Z"


class FullMatch(validate.Regexp):
    """A regex that must match the whole value (Python's `$` would allow a final newline)."""

    def __call__(self, value: Any) -> Any:
        if self.regex.fullmatch(value) is None:
            raise ma.ValidationError(self._format_error(value))
        return value


class Length(validate.Length):
    """Length limits with RealWorld messages; an empty required value "can't be blank"."""

    def __call__(self, value: Any) -> Any:
        size = len(value)
        if self.min is not None and size < self.min:
            unit = "characters" if isinstance(value, str) else "items"
            raise ma.ValidationError(
                BLANK if size == 0 else f"is too short (minimum is {self.min} {unit})"
            )
        if self.max is not None and size > self.max:
            unit = "characters" if isinstance(value, str) else "items"
            raise ma.ValidationError(f"is too long (maximum is {self.max} {unit})")
        return value


class Range(validate.Range):
    """A numeric range with RealWorld messages."""

    message_min = "must be {min_op} {{min}}"
    message_max = "must be {max_op} {{max}}"
    message_all = "must be {min_op} {{min}} and {max_op} {{max}}"


def length(max_: int | None, min_: int | None = 1) -> Length:
    return Length(min=min_, max=max_)


class CharacterRule(validate.Regexp):
    """A documented `pattern` of the shape `^[allowed]*[visible][allowed]*$`, checked in linear time.

    Two single-class scans decide the same language: no character outside `allowed` (the
    `forbidden` class), and, when `visible` is given, at least one visible character.
    """

    def __init__(self, pattern: str, *, forbidden: str, visible: str | None = None) -> None:
        super().__init__(pattern, error=CONTROL)
        self._forbidden = re.compile(f"[{forbidden}]")
        self._visible = re.compile(visible) if visible else None

    def __call__(self, value: Any) -> Any:
        if self._forbidden.search(value) is not None:
            raise ma.ValidationError(CONTROL)
        if self._visible is not None and self._visible.search(value) is None:
            raise ma.ValidationError(BLANK)
        return value


class NotBlank(validate.Validator):
    """The line rule's messages for a field whose own `pattern` already states the rule
    (usernames, emails): "can't be blank" for spaces only, before the pattern's message.
    Not a Regexp, so it adds nothing to the spec."""

    def __init__(self) -> None:
        self._rule = line_rule()

    def __call__(self, value: Any) -> Any:
        return self._rule(value)


def line_rule() -> CharacterRule:
    return CharacterRule(LINE_PATTERN, forbidden=_LINE_CONTROL, visible=_VISIBLE)


def text_rule(*, visible: bool) -> CharacterRule:
    if visible:
        return CharacterRule(VISIBLE_TEXT_PATTERN, forbidden=_TEXT_CONTROL, visible=_VISIBLE)
    return CharacterRule(TEXT_PATTERN, forbidden=_TEXT_CONTROL)


class Messages(fields.Field):  # type: ignore[type-arg]
    """Mixed into every request field: RealWorld-style messages, and length limits first."""

    # marshmallow merges these along the class hierarchy; each field type below refines them.
    default_error_messages = {
        "required": BLANK,
        "null": BLANK,
        "validator_failed": INVALID,
    }

    @functools.cached_property
    def _rules_in_order(self) -> tuple[Any, ...]:
        # Length limits first, so an oversized value is refused before any other rule scans it.
        # Worked out once per field, on first use (subclasses add rules in their __init__).
        return tuple(sorted(self.validators, key=lambda v: not isinstance(v, validate.Length)))

    def _validate(self, value: Any) -> None:
        # One message per field: the first rule that fails.
        for validator in self._rules_in_order:
            if validator(value) is False:
                raise self.make_error("validator_failed")


class String(Messages, fields.String):
    default_error_messages = {"invalid": "must be a string", "invalid_utf8": INVALID}


class Integer(Messages, fields.Integer):
    """`strict`: a JSON number without a fraction, never a string. `5.0` is one: JSON Schema's
    `integer` (what the spec says) is any number whose fractional part is zero."""

    default_error_messages = {"invalid": "must be an integer", "too_large": "is too large"}

    def _validated(self, value: Any) -> int:
        if self.strict and isinstance(value, float) and value.is_integer():
            value = int(value)
        return super()._validated(value)


class Nested(Messages, fields.Nested):
    default_error_messages = {"type": "must be an object"}


class List(Messages, fields.List):  # type: ignore[type-arg]
    default_error_messages = {"invalid": "must be a list"}


class Line(String):
    """One line of visible text without control characters; surrounding spaces are trimmed."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if any(isinstance(v, validate.Regexp) for v in self.validators):
            # The field's own pattern (usernames) is documented; blank is reported first.
            self.validators.insert(0, NotBlank())
        else:
            self.validators.append(line_rule())

    def deserialize(self, *args: Any, **kwargs: Any) -> Any:
        # Validated as sent (so the documented limits hold), stored trimmed.
        value = super().deserialize(*args, **kwargs)
        return value.strip(_STRIPPED) if isinstance(value, str) else value


class Text(String):
    """Free text (tabs and newlines allowed) without other control characters; `visible`
    (default: when required) refuses text of spaces only as "can't be blank"."""

    def __init__(self, *, visible: bool | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(text_rule(visible=self.required if visible is None else visible))


class Email(Messages, fields.Email):
    """Emails are compared case-insensitively, so they are stored lower-cased."""

    default_error_messages = {"invalid": "must be a string"}  # marshmallow's type check

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for rule in self.validators:
            if isinstance(rule, validate.Email):
                rule.error = INVALID
        self.validators.insert(0, NotBlank())

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        email: str = super()._deserialize(value, attr, data, **kwargs)
        return email.lower()


class Timestamp(fields.DateTime):
    """ISO 8601 in UTC with milliseconds and a `Z`, as the RealWorld examples show."""

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format_timestamp(value)
