"""The whole-document walk: servers, security, paths and operations (their insides: messages.py).

A change inside a shared component is reported once, at its own pointer, with every operation
(and status) it reaches.
"""

from __future__ import annotations

import re

from openapi.specdiff.document import METHODS, Document, Finding, Node, pointer
from openapi.specdiff.messages import Messages, operation_parameters

Security = frozenset[frozenset[tuple[str, tuple[str, ...]]]]


def diff(old: Document, new: Document) -> list[Finding]:
    """Every change from `old` to `new`: breaking ones first, then by pointer."""
    walk = _Walk(old, new)
    walk.run()
    return sorted(
        walk.findings.values(), key=lambda f: (not f.breaking, f.change.pointer, f.change.rule)
    )


def template(path: str) -> str:
    """A path with its parameters unnamed: `/articles/{slug}` and `/articles/{id}` are one path."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def _security(doc: Document, operation: Node) -> Security:
    """The alternatives a client may satisfy; the empty alternative is "anonymous"."""
    requirements = operation.get("security", doc.contents.get("security", []))
    if not requirements:
        return frozenset([frozenset()])
    return frozenset(
        frozenset((name, tuple(sorted(scopes))) for name, scopes in requirement.items())
        for requirement in requirements
    )


def _show(alternatives: Security) -> str:
    names = (" + ".join(sorted(name for name, _ in alternative)) for alternative in alternatives)
    return " | ".join(sorted(name or "anonymous" for name in names))


def _scheme(doc: Document, node: Node, at: str) -> Node:
    scheme, _ = doc.deref(node, at)
    return {k: v for k, v in scheme.items() if k != "description" and not k.startswith("x-")}


class _Walk(Messages):
    def run(self) -> None:
        old_urls, new_urls = (
            {server.get("url", "/") for server in doc.contents.get("servers") or [{"url": "/"}]}
            for doc in (self.old, self.new)
        )
        for url in sorted(old_urls - new_urls):
            self.one("server-removed", "#/servers", f"server {url} removed", gone=True)
        for url in sorted(new_urls - old_urls):
            self.one("server-added", "#/servers", f"server {url} added")
        self.security_schemes()
        old_paths = {template(path): path for path in self.old.contents.get("paths", {})}
        new_paths = {template(path): path for path in self.new.contents.get("paths", {})}
        for key in sorted(old_paths.keys() - new_paths.keys()):
            path = old_paths[key]
            self.one("path-removed", pointer("#/paths", path), f"path {path} removed", gone=True)
        for key in sorted(new_paths.keys() - old_paths.keys()):
            path = new_paths[key]
            self.one("path-added", pointer("#/paths", path), f"path {path} added")
        for key in sorted(old_paths.keys() & new_paths.keys()):
            self.path(old_paths[key], new_paths[key])

    def security_schemes(self) -> None:
        old = self.old.contents.get("components", {}).get("securitySchemes", {})
        new = self.new.contents.get("components", {}).get("securitySchemes", {})
        for name in sorted(old):
            at = pointer("#/components/securitySchemes", name)
            if name not in new:
                self.one(
                    "security-scheme-removed", at, f"security scheme {name} removed", gone=True
                )
                continue
            before, after = _scheme(self.old, old[name], at), _scheme(self.new, new[name], at)
            if before != after:
                self.one(
                    "security-scheme-changed", at, f"security scheme {name}: {before} -> {after}"
                )

    def path(self, old_path: str, new_path: str) -> None:
        old_item, old_at = self.old.deref(
            self.old.contents["paths"][old_path], pointer("#/paths", old_path)
        )
        new_item, new_at = self.new.deref(
            self.new.contents["paths"][new_path], pointer("#/paths", new_path)
        )
        for method in METHODS:
            label = f"{method.upper()} {new_path}"
            if method in old_item and method not in new_item:
                self.one(
                    "operation-removed", pointer(old_at, method), f"{label} removed", gone=True
                )
            elif method in new_item and method not in old_item:
                self.one("operation-added", pointer(new_at, method), f"{label} added")
            elif method in old_item:
                self.operation(old_item, old_at, new_item, new_at, method, label)

    def operation(
        self, old_item: Node, old_at: str, new_item: Node, new_at: str, method: str, label: str
    ) -> None:
        old, new = old_item[method], new_item[method]
        old_at, new_at = pointer(old_at, method), pointer(new_at, method)
        label = new.get("operationId") or label
        if old.get("operationId") != new.get("operationId"):
            detail = f"operationId {old.get('operationId')!r} -> {new.get('operationId')!r}"
            self.one("operation-id-changed", pointer(new_at, "operationId"), detail, label)
        if new.get("deprecated") and not old.get("deprecated"):
            self.one("operation-deprecated", new_at, "operation deprecated", label)
        before, after = _security(self.old, old), _security(self.new, new)
        if before != after:
            relaxed = before <= after or frozenset() in after
            detail = f"security {_show(before)} -> {_show(after)}"
            self.one(
                f"security-{'relaxed' if relaxed else 'changed'}",
                pointer(new_at, "security"),
                detail,
                label,
            )
        self.parameters(
            operation_parameters(self.old, old_item, old_at, old),
            operation_parameters(self.new, new_item, new_at, new),
            label,
        )
        self.request_body(
            old.get("requestBody"),
            pointer(old_at, "requestBody"),
            new.get("requestBody"),
            pointer(new_at, "requestBody"),
            label,
        )
        self.responses(
            old.get("responses", {}),
            pointer(old_at, "responses"),
            new.get("responses", {}),
            pointer(new_at, "responses"),
            label,
        )
