"""Dump functions generated once per schema from its own fields, checked against marshmallow.

marshmallow's `dump` walks every field of every object through several method calls; for a
page of 20 articles that is most of a request's Python time. The function generated here does
the same work as one dict expression. The schema still defines the output (and the spec): the
generator reads its fields, and the result must equal marshmallow's own dump of a sample built
from those fields, or marshmallow stays in charge.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import marshmallow as ma
from marshmallow import fields

from schemas.fields import Timestamp, format_timestamp

log = logging.getLogger(__name__)

Dumper = Callable[[Any], Any]
_IDENTITY = (fields.String, fields.Integer, fields.Boolean)


class Unsupported(Exception):
    """A field the generator does not know; marshmallow dumps that schema."""


def _get(obj: Any, name: str) -> Any:
    # Envelopes are dicts, views are objects; `type() is` is far cheaper than an ABC check.
    return obj[name] if type(obj) is dict else getattr(obj, name)


def _optional(out: dict[str, Any], key: str, obj: Any, name: str) -> dict[str, Any]:
    """Add a field that is not required only when the object has it, as marshmallow does."""
    value = obj.get(name, ma.missing) if type(obj) is dict else getattr(obj, name, ma.missing)
    if value is not ma.missing:
        out[key] = value
    return out


def _field_expr(field: ma.fields.Field[Any], source: str, depth: int) -> str:
    if isinstance(field, fields.Nested):
        schema = field.schema
        if field.many:
            item = f"i{depth}"
            return f"[{_object_expr(schema, item, depth + 1)} for {item} in {source}]"
        if field.allow_none:  # a nullable object: null stays null
            item = f"n{depth}"
            return f"(lambda {item}: None if {item} is None else {_object_expr(schema, item, depth + 1)})({source})"
        return _object_expr(schema, source, depth + 1)
    if isinstance(field, fields.List):
        inner = field.inner
        item = f"i{depth}"
        if isinstance(inner, fields.Nested):
            return f"[{_object_expr(inner.schema, item, depth + 1)} for {item} in {source}]"
        if type(inner) in _IDENTITY:
            return f"list({source})"
        raise Unsupported(repr(field))
    if isinstance(field, Timestamp):
        return f"_ts({source})"
    if type(field) in _IDENTITY or isinstance(field, fields.String):
        return source
    raise Unsupported(repr(field))


def _object_expr(schema: ma.Schema, var: str, depth: int) -> str:
    parts, optional = [], []
    for name, field in schema.dump_fields.items():
        key = field.data_key or name
        attribute = field.attribute or name
        if not field.required and isinstance(field, fields.String):
            optional.append((key, attribute))  # plain strings only: dumped as they are
            continue
        value = f"_get({var}, {attribute!r})"
        parts.append(f"{key!r}: {_field_expr(field, value, depth)}")
    expr = "{" + ", ".join(parts) + "}"
    for key, attribute in optional:
        expr = f"_optional({expr}, {key!r}, {var}, {attribute!r})"
    return expr


def _sample(schema: ma.Schema) -> SimpleNamespace:
    """An object with a value of the right type for every field, nested ones included."""
    values: dict[str, Any] = {}
    for number, (name, field) in enumerate(schema.dump_fields.items()):
        values[field.attribute or name] = _sample_value(field, number)
    return SimpleNamespace(**values)


def _sample_value(field: ma.fields.Field[Any], number: int) -> Any:
    if isinstance(field, fields.Nested):
        one = _sample(field.schema)
        return [one, _sample(field.schema)] if field.many else one
    if isinstance(field, fields.List):
        inner = field.inner
        if isinstance(inner, fields.Nested):
            return [_sample(inner.schema), _sample(inner.schema)]
        return [f"item{number}", f"other{number}"]
    if isinstance(field, Timestamp):
        return datetime(2024, 2, 29, 13, 14, 15, 926535 + number, tzinfo=UTC)
    if isinstance(field, fields.Boolean):
        return number % 2 == 0
    if isinstance(field, fields.Integer):
        return 1000 + number
    return f"text {number} ü"


def compile_dumper(schema: ma.Schema) -> Dumper | None:
    """The generated dump function for `schema`, or None where marshmallow must do it."""
    try:
        source = f"lambda obj: {_object_expr(schema, 'obj', 0)}"
    except Unsupported as unsupported:
        log.info("%s dumps through marshmallow: %s", type(schema).__name__, unsupported)
        return None
    dumper: Dumper = eval(  # noqa: S307 - source built from field names, never from input
        source, {"_get": _get, "_optional": _optional, "_ts": format_timestamp}
    )
    sample = _sample(schema)
    if dumper(sample) != ma.Schema.dump(schema, sample):
        log.error("%s: generated dump differs from marshmallow's; using marshmallow", schema)
        return None
    return dumper


class FastDumpMixin:
    """`dump` through the generated function (compiled at first use, once per process)."""

    _dumper: Dumper | bool | None = False

    def dump(self, obj: Any, *, many: bool | None = None) -> Any:
        if self._dumper is False:
            self._dumper = compile_dumper(self)  # type: ignore[arg-type]
        dumper = self._dumper
        if dumper is None or dumper is True or many or getattr(self, "many", False):
            return super().dump(obj, many=many)  # type: ignore[misc]
        return dumper(obj)
