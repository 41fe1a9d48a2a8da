"""Loading a spec (validated by openapi-spec-validator) and following its `$ref`s (referencing)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from openapi_spec_validator import validate
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from openapi.specdiff.rules import RULES

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
Node = dict[str, Any]


class SpecError(Exception):
    """The document cannot be compared: invalid, or a `$ref` we cannot follow."""


def pointer(base: str, *parts: str | int) -> str:
    """`base` extended by RFC 6901 reference tokens (`/` and `~` escaped)."""
    escaped = (str(part).replace("~", "~0").replace("/", "~1") for part in parts)
    return "/".join((base, *escaped))


@dataclass(frozen=True)
class Change:
    """One difference, before we know every operation it reaches."""

    rule: str
    pointer: str  # where it is: in the new document, or in the baseline when `gone`
    detail: str
    gone: bool = False  # the pointer is into the baseline (the thing no longer exists)

    def __post_init__(self) -> None:
        if self.rule not in RULES:
            raise KeyError(f"no classification rule {self.rule!r}")


@dataclass
class Finding:
    """A classified change and the operations (with direction) it reaches."""

    change: Change
    where: list[str] = field(default_factory=list)

    @property
    def breaking(self) -> bool:
        return RULES[self.change.rule].breaking

    @property
    def reason(self) -> str:
        """The one-line explanation: what changed, and what that does to a client."""
        return f"{self.change.detail}: {RULES[self.change.rule].reason}"


class Document:
    """A parsed OpenAPI document whose local `$ref`s resolve through `referencing`."""

    URI = "urn:conduit:openapi"

    def __init__(self, contents: Node, *, name: str = "spec", check: bool = True) -> None:
        if check:
            try:
                validate(contents)
            except Exception as error:  # the validator raises several unrelated types
                why = getattr(error, "ref", None) or str(error).split("\n", 1)[0][:300]
                raise SpecError(f"{name} is not a valid OpenAPI document: {why}") from error
        self.contents = contents
        self.name = name
        resource = DRAFT202012.create_resource(contents)
        self._resolver = Registry().with_resource(self.URI, resource).resolver(self.URI)

    @classmethod
    def load(cls, path: Path, *, name: str | None = None, check: bool = True) -> Document:
        return cls.parse(path.read_text(), name=name or str(path), check=check)

    @classmethod
    def parse(cls, text: str, *, name: str = "spec", check: bool = True) -> Document:
        contents = json.loads(text) if text.lstrip().startswith("{") else yaml.safe_load(text)
        if not isinstance(contents, dict):
            raise SpecError(f"{name} is not a JSON or YAML object")
        return cls(contents, name=name, check=check)

    @property
    def version(self) -> str:
        return str(self.contents.get("info", {}).get("version", ""))

    def deref(self, node: Any, where: str) -> tuple[Any, str]:
        """The node a chain of `$ref`s ends at, and the pointer it lives at."""
        seen: set[str] = set()
        while isinstance(node, dict) and isinstance(node.get("$ref"), str):
            ref: str = node["$ref"]
            if not ref.startswith("#"):
                raise SpecError(f"{where}: external $ref {ref!r}: bundle the document first")
            if ref in seen:
                raise SpecError(f"{where}: $ref cycle through {ref!r}")
            seen.add(ref)
            try:
                node = self._resolver.lookup(ref).contents
            except Unresolvable as error:
                raise SpecError(f"{where}: unresolvable $ref {ref!r}") from error
            where = ref
        return node, where
