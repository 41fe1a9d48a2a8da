"""Does our spec still cover upstream RealWorld's? A client written against upstream must work.

Every upstream operation (same method, path and operationId), every status code it documents,
every field it requires of a response (present and required in ours), every field it defines
for a request (present in ours), and nothing required of a request that upstream leaves
optional or does not know.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openapi.specdiff.document import METHODS, Document, Node, pointer
from openapi.specdiff.gate import ROOT
from openapi.specdiff.messages import operation_parameters
from openapi.specdiff.operations import template
from openapi.specdiff.shapes import Shape, shape

UPSTREAM = ROOT.parent / "shared" / "realworld" / "openapi.yml"
JSON = "application/json"


@dataclass
class Coverage:
    operations: int = 0
    problems: list[str] = field(default_factory=list)


def _operations(doc: Document) -> dict[tuple[str, str], tuple[Node, Node, str]]:
    found = {}
    for path, item in doc.contents.get("paths", {}).items():
        item, at = doc.deref(item, pointer("#/paths", path))
        for method in METHODS:
            if method in item:
                found[(method, template(path))] = (item, item[method], pointer(at, method))
    return found


def _json_schema(doc: Document, node: Any, at: str) -> tuple[Any, str] | None:
    node, at = doc.deref(node, at)
    media = node.get("content", {}).get(JSON)
    return (
        None
        if media is None or "schema" not in media
        else (media["schema"], pointer(at, "content", JSON, "schema"))
    )


class _Check:
    def __init__(self, ours: Document, theirs: Document) -> None:
        self.ours, self.theirs = ours, theirs
        self.result = Coverage()
        self._seen: set[tuple[str, str, str]] = set()

    def problem(self, where: str, text: str) -> None:
        self.result.problems.append(f"{where}: {text}")

    def run(self) -> Coverage:
        ours = _operations(self.ours)
        for key, (their_item, theirs, their_at) in sorted(_operations(self.theirs).items()):
            name = f"{theirs.get('operationId', '?')} ({key[0].upper()} {key[1]})"
            if key not in ours:
                self.problem(name, "upstream operation missing from ours")
                continue
            self.result.operations += 1
            my_item, mine, my_at = ours[key]
            if mine.get("operationId") != theirs.get("operationId"):
                self.problem(name, f"our operationId is {mine.get('operationId')!r}")
            self.parameters(
                name,
                operation_parameters(self.theirs, their_item, their_at, theirs),
                operation_parameters(self.ours, my_item, my_at, mine),
            )
            if "requestBody" in theirs:
                their_body = _json_schema(
                    self.theirs, theirs["requestBody"], pointer(their_at, "requestBody")
                )
                my_body = _json_schema(
                    self.ours, mine.get("requestBody", {}), pointer(my_at, "requestBody")
                )
                if their_body and not my_body:
                    self.problem(name, "no JSON request body in ours")
                elif their_body and my_body:
                    self.request(
                        f"{name} request",
                        shape(self.theirs, *their_body),
                        shape(self.ours, *my_body),
                    )
            responses = mine.get("responses", {})
            for status, response in theirs.get("responses", {}).items():
                if str(status) not in {str(s) for s in responses}:
                    self.problem(name, f"upstream status {status} missing from ours")
                    continue
                their_schema = _json_schema(
                    self.theirs, response, pointer(their_at, "responses", str(status))
                )
                my_schema = _json_schema(
                    self.ours, responses[str(status)], pointer(my_at, "responses", str(status))
                )
                if their_schema and not my_schema:
                    self.problem(name, f"{status}: no JSON body in ours")
                elif their_schema and my_schema:
                    self.response(
                        f"{name} {status}",
                        shape(self.theirs, *their_schema),
                        shape(self.ours, *my_schema),
                    )
        return self.result

    def parameters(
        self,
        name: str,
        theirs: dict[tuple[str, str], tuple[Node, str]],
        mine: dict[tuple[str, str], tuple[Node, str]],
    ) -> None:
        for key in sorted(theirs.keys() - mine.keys()):
            self.problem(name, f"upstream {key[0]} parameter {key[1]} missing from ours")
        for key, (param, _) in sorted(mine.items()):
            upstream_requires = key in theirs and bool(theirs[key][0].get("required"))
            if param.get("required") and key[0] != "path" and not upstream_requires:
                self.problem(name, f"{key[0]} parameter {key[1]} is required in ours, not upstream")

    def _once(self, kind: str, theirs: Shape, mine: Shape) -> bool:
        key = (kind, theirs.where, mine.where)
        seen = key in self._seen
        self._seen.add(key)
        return not seen

    def request(self, where: str, theirs: Shape, mine: Shape) -> None:
        """Upstream clients send only upstream's fields: each must exist, none more be required."""
        if not self._once("request", theirs, mine):
            return
        for name, prop in theirs.properties.items():
            if name not in mine.properties:
                self.problem(where, f"field {name} (upstream defines it) missing from ours")
            else:
                self.request(
                    f"{where}.{name}",
                    shape(self.theirs, *prop),
                    shape(self.ours, *mine.properties[name]),
                )
        for name in sorted(mine.required - theirs.required):
            known = "optional upstream" if name in theirs.properties else "unknown upstream"
            self.problem(where, f"field {name} is required in ours, {known}")
        if theirs.items and mine.items:
            self.request(
                f"{where}[]", shape(self.theirs, *theirs.items), shape(self.ours, *mine.items)
            )

    def response(self, where: str, theirs: Shape, mine: Shape) -> None:
        """Upstream clients read upstream's required fields: each must be there, and required."""
        if not self._once("response", theirs, mine):
            return
        for name in sorted(theirs.required):
            if name not in mine.properties:
                self.problem(where, f"required field {name} missing from ours")
            elif name not in mine.required:
                self.problem(where, f"field {name} is required upstream, optional in ours")
        for name, prop in theirs.properties.items():
            if name in mine.properties:
                self.response(
                    f"{where}.{name}",
                    shape(self.theirs, *prop),
                    shape(self.ours, *mine.properties[name]),
                )
        if theirs.items and mine.items:
            self.response(
                f"{where}[]", shape(self.theirs, *theirs.items), shape(self.ours, *mine.items)
            )


def conformance(ours: Document, theirs: Document) -> Coverage:
    """How much of upstream's document ours covers, and where it falls short."""
    return _Check(ours, theirs).run()
