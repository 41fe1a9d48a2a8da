"""What an operation exchanges: parameters, request bodies, responses, headers, media types.

Parameters and request bodies are compared as `request` (what clients send); response bodies
and headers as `response` (what clients read).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from openapi.specdiff.document import Change, Document, Finding, Node, pointer
from openapi.specdiff.schemas import SchemaDiff

Keyed = dict[str, tuple[Any, str]]  # key -> (node, the pointer it lives at)
Parameters = dict[tuple[str, str], tuple[Node, str]]
SERIALIZATION = ("style", "explode", "allowReserved", "allowEmptyValue")


def operation_parameters(doc: Document, item: Node, at: str, operation: Node) -> Parameters:
    """An operation's parameters, its path item's included, by (location, name)."""
    found: Parameters = {}
    for base, container in ((at.rsplit("/", 1)[0], item), (at, operation)):
        for i, reference in enumerate(container.get("parameters", [])):
            param, param_at = doc.deref(reference, pointer(base, "parameters", i))
            name = param["name"].lower() if param["in"] == "header" else param["name"]
            found[(param["in"], name)] = (param, param_at)
    return found


def _keyed(nodes: Node, at: str, key: Callable[[str], str] = str) -> Keyed:
    """Entries by normalized key, each with its own pointer (not yet dereferenced)."""
    return {key(str(name)): (node, pointer(at, str(name))) for name, node in nodes.items()}


def _status(code: str) -> str:
    return code.upper() if code[:1].isdigit() else code.lower()  # "2xx" is "2XX"; "default"


def _serialization(param: Node) -> dict[str, Any]:
    style = param.get("style", "form" if param["in"] in ("query", "cookie") else "simple")
    return {
        "style": style,
        "explode": param.get("explode", style == "form"),
        "allowReserved": param.get("allowReserved", False),
        "allowEmptyValue": param.get("allowEmptyValue", False),
    }


class Messages:
    """Collects findings; compares everything below an operation."""

    def __init__(self, old: Document, new: Document) -> None:
        self.old, self.new = old, new
        self.schemas = SchemaDiff(old, new)
        self.findings: dict[Change, Finding] = {}

    def add(self, changes: Iterable[Change], where: str | None = None) -> None:
        for change in changes:
            finding = self.findings.setdefault(change, Finding(change))
            if where and where not in finding.where:
                finding.where.append(where)

    def one(
        self, rule: str, at: str, detail: str, where: str | None = None, gone: bool = False
    ) -> None:
        self.add([Change(rule, at, detail, gone)], where)

    def keys(self, old: Keyed, new: Keyed, rule: str, noun: str, where: str | None) -> list[str]:
        """Report keys only in `old` (`<rule>-removed`) or `new` (`-added`); return the shared."""
        for key in sorted(old.keys() - new.keys()):
            self.one(f"{rule}-removed", old[key][1], f"{noun} {key} removed", where, gone=True)
        for key in sorted(new.keys() - old.keys()):
            self.one(f"{rule}-added", new[key][1], f"{noun} {key} added", where)
        return sorted(old.keys() & new.keys())

    def schema(
        self, old: Node, old_at: str, new: Node, new_at: str, direction: str, where: str
    ) -> None:
        if "schema" in old or "schema" in new:
            pair = (
                (old.get("schema", True), pointer(old_at, "schema")),
                (new.get("schema", True), pointer(new_at, "schema")),
            )
            self.add(self.schemas.compare(*pair, direction), where)

    def required(
        self, rule: str, what: str, before: bool, after: bool, at: str, where: str
    ) -> None:
        if before != after:
            self.one(
                f"{rule}-became-{'required' if after else 'optional'}",
                at,
                f"{what} {'now' if after else 'no longer'} required",
                where,
            )

    def parameters(self, old: Parameters, new: Parameters, label: str) -> None:
        for key in sorted(old.keys() | new.keys()):
            place, name = key
            what = f"{place} parameter {name}"
            if key not in new:
                self.one("parameter-removed", old[key][1], f"{what} removed", label, gone=True)
                continue
            after, at = new[key]
            must = bool(after.get("required")) or place == "path"
            if key not in old:
                self.one(
                    f"parameter-added-{'required' if must else 'optional'}",
                    at,
                    f"{what} added",
                    label,
                )
                continue
            before, old_at = old[key]
            self.required(
                "parameter", what, bool(before.get("required")) or place == "path", must, at, label
            )
            x, y = _serialization(before), _serialization(after)
            for field in SERIALIZATION:
                if x[field] != y[field]:
                    self.one(
                        "parameter-serialization-changed",
                        at,
                        f"{what}: {field} {x[field]!r} -> {y[field]!r}",
                        label,
                    )
            if after.get("deprecated") and not before.get("deprecated"):
                self.one("parameter-deprecated", at, f"{what} deprecated", label)
            self.schema(before, old_at, after, at, "request", f"{label} {what}")
            self.content(before, old_at, after, at, "request", f"{label} {what}")

    def request_body(self, old: Any, old_at: str, new: Any, new_at: str, label: str) -> None:
        if old is None and new is None:
            return
        if new is None:
            self.one("request-body-removed", old_at, "request body removed", label, gone=True)
            return
        new, new_at = self.new.deref(new, new_at)
        if old is None:
            kind = "required" if new.get("required") else "optional"
            self.one(f"request-body-added-{kind}", new_at, "request body added", label)
            return
        old, old_at = self.old.deref(old, old_at)
        self.required(
            "request-body",
            "request body",
            bool(old.get("required")),
            bool(new.get("required")),
            new_at,
            label,
        )
        self.content(old, old_at, new, new_at, "request", f"{label} request")

    def pair(self, old: Keyed, new: Keyed, key: str) -> tuple[Node, str, Node, str]:
        """The shared entry `key`, followed through its `$ref`s on both sides."""
        (x, x_at), (y, y_at) = self.old.deref(*old[key]), self.new.deref(*new[key])
        return x, x_at, y, y_at

    def content(
        self, old: Node, old_at: str, new: Node, new_at: str, direction: str, where: str
    ) -> None:
        def media(name: str) -> str:
            return name.replace(" ", "").lower()

        before = _keyed(old.get("content", {}), pointer(old_at, "content"), media)
        after = _keyed(new.get("content", {}), pointer(new_at, "content"), media)
        for key in self.keys(before, after, f"{direction}-media-type", "media type", where):
            self.schema(*self.pair(before, after, key), direction, where)

    def responses(self, old: Node, old_at: str, new: Node, new_at: str, label: str) -> None:
        before, after = _keyed(old, old_at, _status), _keyed(new, new_at, _status)
        for status in self.keys(before, after, "response-status", "response", label):
            x, x_at, y, y_at = self.pair(before, after, status)
            self.content(x, x_at, y, y_at, "response", f"{label} {status}")
            self.headers(x, x_at, y, y_at, f"{label} {status}")

    def headers(self, old: Node, old_at: str, new: Node, new_at: str, where: str) -> None:
        def named(node: Node, at: str) -> Keyed:
            found = _keyed(node.get("headers", {}), pointer(at, "headers"), str.lower)
            found.pop("content-type", None)  # ignored by OpenAPI: the media type says it
            return found

        before, after = named(old, old_at), named(new, new_at)
        for key in self.keys(before, after, "response-header", "header", where):
            x, x_at, y, y_at = self.pair(before, after, key)
            was, now = bool(x.get("required")), bool(y.get("required"))
            self.required("response-header", f"header {key}", was, now, y_at, where)
            self.schema(x, x_at, y, y_at, "response", where)
