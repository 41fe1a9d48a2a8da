"""Two schemas compared in one direction: what moved, and whether fewer or more values are valid.

The direction (`request` or `response`) only names the rule (`request-bound-narrowed`); what a
move means for a client is the table's business (`rules.py`).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from openapi.specdiff.document import Change, Document, pointer
from openapi.specdiff.shapes import Ref, Shape, shape

LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
MODELED = frozenset(
    {
        *LOWER_BOUNDS,
        *UPPER_BOUNDS,
        "multipleOf",
        "uniqueItems",
        "enum",
        "format",
        "pattern",
        "default",
        "deprecated",
    }
)


def _types(types: frozenset[str] | None) -> str:
    return "any" if types is None else "|".join(sorted(types)) or "nothing"


def _covers(types: frozenset[str] | None, name: str) -> bool:
    return types is None or name in types or (name == "integer" and "number" in types)


def _moved(name: str, old: Any, new: Any) -> str:
    if old is None:
        return f"{name} {new!r} added"
    if new is None:
        return f"{name} {old!r} removed"
    return f"{name} {old!r} -> {new!r}"


def _values(values: list[Any]) -> set[str]:
    return {json.dumps(value, sort_keys=True) for value in values if value is not None}


class SchemaDiff:
    """Compares schemas of two documents; remembers each pair, so cycles and shared parts end."""

    def __init__(self, old: Document, new: Document) -> None:
        self.old, self.new = old, new
        self._seen: dict[tuple[str, bool, str, bool, str], list[Change]] = {}

    def compare(self, old: Ref, new: Ref, direction: str) -> list[Change]:
        return self.shapes(shape(self.old, *old), shape(self.new, *new), direction)

    def shapes(self, a: Shape, b: Shape, direction: str) -> list[Change]:
        key = (a.where, a.nullable, b.where, b.nullable, direction)
        if key not in self._seen:
            self._seen[key] = []  # a cycle back to this pair adds nothing new
            self._seen[key] = _Pair(self, a, b, direction).changes()
        return self._seen[key]


class _Pair:
    def __init__(self, diff: SchemaDiff, a: Shape, b: Shape, direction: str) -> None:
        self.diff, self.a, self.b, self.direction = diff, a, b, direction
        self.found: list[Change] = []

    def emit(self, move: str, detail: str, where: str | None = None, *, gone: bool = False) -> None:
        self.found.append(Change(f"{self.direction}-{move}", where or self.b.where, detail, gone))

    def changes(self) -> list[Change]:
        a, b = self.a, self.b
        if a.nullable and not b.nullable:
            self.emit("not-nullable", "null no longer allowed")
        elif b.nullable and not a.nullable:
            self.emit("nullable", "null now allowed")
        if a.composite or b.composite:
            self.variants()
        elif self.types():
            self.keywords()
            self.objects()
            if a.items is not None and b.items is not None:
                self.found += self.diff.compare(a.items, b.items, self.direction)
            elif a.items is None and b.items is not None:
                self.emit("type-narrowed", "array items now constrained", b.items[1])
            elif a.items is not None and b.items is None:
                self.emit("type-widened", "array items no longer constrained")
        return self.found

    def types(self) -> bool:
        """Report a type change; False when nothing below it is worth comparing."""
        old, new = self.a.types, self.b.types
        if old == new:
            return True
        narrowed = old is None or any(not _covers(new, name) for name in old)
        widened = new is None or any(not _covers(old, name) for name in new)
        move = "changed" if narrowed and widened else "narrowed" if narrowed else "widened"
        self.emit(f"type-{move}", f"type {_types(old)} -> {_types(new)}")
        return not (old is not None and new is not None and not old & new)

    def variants(self) -> None:
        """`oneOf` / `anyOf`: pair the branches (same `$ref` first, then in order)."""
        old = self._branches(self.a, self.diff.old)
        new = self._branches(self.b, self.diff.new)
        pairs: list[tuple[Shape, Shape]] = []
        for branch in list(old):
            match = next((other for other in new if other.where == branch.where), None)
            if match is not None:
                pairs.append((branch, match))
                old.remove(branch)
                new.remove(match)
        pairs += zip(old, new, strict=False)
        for branch, match in pairs:
            self.found += self.diff.shapes(branch, match, self.direction)
        for branch in old[len(new) :]:
            self.emit("variant-removed", "a oneOf/anyOf branch removed", branch.where, gone=True)
        for branch in new[len(old) :]:
            self.emit("variant-added", "a oneOf/anyOf branch added", branch.where)

    @staticmethod
    def _branches(side: Shape, doc: Document) -> list[Shape]:
        if not side.composite:
            return [replace(side, nullable=False)]
        branches = [shape(doc, node, at) for node, at in side.branches]
        for branch in branches:
            branch.nullable = False  # nullability was compared on the whole
        return branches

    def keywords(self) -> None:
        old, new = self.a.keywords, self.b.keywords
        for name in LOWER_BOUNDS + UPPER_BOUNDS:
            x, y = old.get(name), new.get(name)
            if x == y:
                continue
            if isinstance(x, bool) or isinstance(y, bool):  # 3.0 exclusiveMinimum/Maximum
                narrowed = bool(y)
            elif x is None or y is None:
                narrowed = x is None
            else:
                narrowed = (y > x) == (name in LOWER_BOUNDS)
            self.emit(f"bound-{'narrowed' if narrowed else 'widened'}", _moved(name, x, y))
        self.multiple_of(old.get("multipleOf"), new.get("multipleOf"))
        if bool(old.get("uniqueItems")) != bool(new.get("uniqueItems")):
            move = "narrowed" if new.get("uniqueItems") else "widened"
            self.emit(f"bound-{move}", f"uniqueItems {bool(new.get('uniqueItems'))}")
        self.enum(old.get("enum"), new.get("enum"))
        for name in ("format", "pattern"):
            x, y = old.get(name), new.get(name)
            if x != y:
                move = "narrowed" if x is None else "widened" if y is None else "changed"
                self.emit(f"{name}-{move}", _moved(name, x, y))
        if old.get("default") != new.get("default"):
            added = "default" not in old
            self.emit(
                f"default-{'added' if added else 'changed'}",
                _moved("default", old.get("default"), new.get("default")),
            )
        if new.get("deprecated") and not old.get("deprecated"):
            self.emit("deprecated", "deprecated")
        for name in sorted((set(old) | set(new)) - MODELED):
            if old.get(name) != new.get(name):
                self.emit("keyword-changed", _moved(name, old.get(name), new.get(name)))

    def multiple_of(self, x: Any, y: Any) -> None:
        if x == y:
            return
        if x is None or y is None:
            moves = ["narrowed" if x is None else "widened"]
        elif x % y == 0 or y % x == 0:
            moves = ["widened" if x % y == 0 else "narrowed"]
        else:
            moves = ["narrowed", "widened"]
        for move in moves:
            self.emit(f"bound-{move}", _moved("multipleOf", x, y))

    def enum(self, x: list[Any] | None, y: list[Any] | None) -> None:
        if x == y:
            return
        if x is None or y is None:
            self.emit(
                f"enum-{'narrowed' if x is None else 'widened'}",
                "enum added" if x is None else "enum removed",
            )
            return
        removed, added = _values(x) - _values(y), _values(y) - _values(x)
        if removed:
            self.emit("enum-narrowed", f"enum values {', '.join(sorted(removed))} removed")
        if added:
            self.emit("enum-widened", f"enum values {', '.join(sorted(added))} added")

    def objects(self) -> None:
        a, b = self.a, self.b
        request = self.direction == "request"
        for name in sorted(set(a.properties) | set(b.properties) | a.required | b.required):
            was = name in a.properties or name in a.required
            now = name in b.properties or name in b.required
            old_at = a.properties[name][1] if name in a.properties else pointer(a.where, "required")
            new_at = b.properties[name][1] if name in b.properties else pointer(b.where, "required")
            must_before, must_now = name in a.required, name in b.required
            if was and not now:
                moved = f" (its object is now {b.where})" if a.where != b.where else ""
                self.emit("property-removed", f"property {name} removed{moved}", old_at, gone=True)
                continue
            if now and not was:
                added = "property-added-required" if must_now else "property-added-optional"
                self.emit(added if request else "property-added", f"property {name} added", new_at)
                continue
            if must_before != must_now:
                move = "property-became-required" if must_now else "property-became-optional"
                self.emit(
                    move, f"property {name} {'now' if must_now else 'no longer'} required", new_at
                )
            if name in a.properties and name in b.properties:
                self.found += self.diff.compare(
                    a.properties[name], b.properties[name], self.direction
                )
        self.additional(a.additional, b.additional)

    def additional(self, x: Ref | bool, y: Ref | bool) -> None:
        if isinstance(x, tuple) and isinstance(y, tuple):
            self.found += self.diff.compare(x, y, self.direction)
            return
        rank = {False: 0, True: 2}
        old, new = (
            rank.get(x, 1) if isinstance(x, bool) else 1,
            rank.get(y, 1) if isinstance(y, bool) else 1,
        )
        if old != new:
            move = "narrowed" if new < old else "widened"
            words = {0: "none", 1: "a schema", 2: "any"}
            self.emit(
                f"additional-properties-{move}",
                f"undeclared properties: {words[old]} -> {words[new]}",
            )
