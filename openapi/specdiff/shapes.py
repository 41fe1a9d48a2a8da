"""A schema reduced to what a diff compares: `$ref`s followed, `allOf` merged, null separated.

OpenAPI spells "may be null" three ways: 3.1 `type: [..., "null"]`, 3.0 `nullable: true`, and a
`{"type": "null"}` branch of `oneOf`/`anyOf`. All three become `Shape.nullable`, so moving
between them is no change. A `oneOf`/`anyOf` with one non-null branch is that branch.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openapi.specdiff.document import Document, SpecError, pointer

Ref = tuple[Any, str]  # a schema node and the pointer it lives at

STRUCTURE = frozenset(
    {
        "$ref",
        "type",
        "nullable",
        "allOf",
        "oneOf",
        "anyOf",
        "properties",
        "required",
        "items",
        "additionalProperties",
        "const",
    }
)
# Keywords that never change which values are valid, nor how an SDK reads them.
ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "example",
        "examples",
        "externalDocs",
        "xml",
        "$comment",
        "$schema",
        "$id",
        "$anchor",
        "$defs",
        "definitions",
        "readOnly",
        "writeOnly",
        "contentMediaType",
    }
)


@dataclass
class Shape:
    where: str
    types: frozenset[str] | None = None  # non-null types; None: any
    nullable: bool = False
    keywords: dict[str, Any] = field(default_factory=dict)  # constraints (enum, bounds, ...)
    properties: dict[str, Ref] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    items: Ref | None = None
    additional: Ref | bool = True  # True: anything; False: nothing; else a schema
    branches: list[Ref] = field(default_factory=list)  # >= 2 non-null oneOf/anyOf branches

    @property
    def composite(self) -> bool:
        return len(self.branches) > 1

    def merge(self, other: Shape) -> None:
        """Both must hold (`allOf`): intersect types, union properties and requirements."""
        if other.types is not None:
            self.types = other.types if self.types is None else self.types & other.types
        self.keywords = {**other.keywords, **self.keywords}
        self.properties = {**other.properties, **self.properties}
        self.required |= other.required
        self.items = self.items or other.items
        if self.additional is True or other.additional is False:
            self.additional = other.additional
        if not self.branches:
            self.branches = other.branches


def shape(doc: Document, node: Any, where: str) -> Shape:
    """The comparable view of the schema `node`, found at pointer `where` of `doc`."""
    if node is True:
        return Shape(where, nullable=True)
    if node is False:
        return Shape(where, types=frozenset())
    if not isinstance(node, dict):
        raise SpecError(f"{where}: a schema must be an object or a boolean")
    if "$ref" in node:
        target, target_at = doc.deref({"$ref": node["$ref"]}, where)
        result = shape(doc, target, target_at)
        rest = {
            key: value for key, value in node.items() if key != "$ref" and key not in ANNOTATIONS
        }
        if rest:  # 3.1 allows constraints beside a $ref: both hold
            _both(result, shape(doc, rest, where))
            result.nullable = result.nullable or rest.get("nullable") is True
        return result
    types, null = _types(node.get("type"))
    result = Shape(
        where,
        types=types,
        nullable=null if "type" in node else True,  # no type: any value, null included
        keywords={
            key: value
            for key, value in node.items()
            if key not in STRUCTURE and key not in ANNOTATIONS and not key.startswith("x-")
        },
        properties={
            name: (schema, pointer(where, "properties", name))
            for name, schema in node.get("properties", {}).items()
        },
        required=frozenset(node.get("required", [])),
        items=(node["items"], pointer(where, "items")) if "items" in node else None,
        additional=_additional(node, where),
    )
    if "const" in node:
        result.keywords["enum"] = [node["const"]]
    if "type" not in node and isinstance(result.keywords.get("enum"), list):
        kinds = {_json_type(value) for value in result.keywords["enum"]}  # an untyped enum's type
        result.types, result.nullable = frozenset(kinds - {"null"}), "null" in kinds
    for i, part in enumerate(node.get("allOf", [])):
        _both(result, shape(doc, part, pointer(where, "allOf", i)))
    for keyword in ("anyOf", "oneOf"):
        if keyword in node:
            _either(doc, result, node[keyword], pointer(where, keyword))
    if node.get("nullable") is True:  # 3.0; also the `allOf: [$ref], nullable: true` idiom
        result.nullable = True
    return result


def _types(value: Any) -> tuple[frozenset[str] | None, bool]:
    if value is None:
        return None, False
    names = frozenset([value] if isinstance(value, str) else value)
    return names - {"null"}, "null" in names


def _json_type(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return "null" if value is None else "boolean"
    names = {int: "integer", float: "number", str: "string", list: "array", dict: "object"}
    return names.get(type(value), "object")


def _additional(node: dict[str, Any], where: str) -> Ref | bool:
    value = node.get("additionalProperties", True)
    if isinstance(value, dict):
        return (value, pointer(where, "additionalProperties")) if value else True
    return bool(value)


def _both(result: Shape, part: Shape) -> None:
    """`allOf`: a value must be valid against both."""
    result.nullable = result.nullable and part.nullable
    result.merge(part)


def _either(doc: Document, result: Shape, nodes: list[Any], where: str) -> None:
    """`oneOf` / `anyOf`: null branches make it nullable; one other branch is that branch."""
    refs = [(node, pointer(where, i)) for i, node in enumerate(nodes)]
    shapes = [shape(doc, node, at) for node, at in refs]
    real = [(ref, s) for ref, s in zip(refs, shapes, strict=True) if not _is_null(s)]
    nullable = result.nullable and any(s.nullable for s in shapes)
    if len(real) == 1:
        _both(result, real[0][1])
    elif real:
        result.branches = [ref for ref, _ in real]
    result.nullable = nullable


def _is_null(branch: Shape) -> bool:
    return branch.types == frozenset() and branch.nullable
