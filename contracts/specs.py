"""The two documents the running API is held to: ours (committed) and upstream RealWorld's."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
OUR_SPEC = ROOT / "openapi" / "openapi.json"
UPSTREAM_SPEC = ROOT.parent / "shared" / "realworld" / "openapi.yml"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def ours() -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(OUR_SPEC.read_text())
    return spec


def upstream() -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(UPSTREAM_SPEC.read_text())
    return spec


def operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId -> (METHOD, path, operation)."""
    found = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                found[operation["operationId"]] = (method.upper(), path, operation)
    return found


def resolve(spec: dict[str, Any], node: Any) -> Any:
    """Follow `$ref`s (local ones only) until a concrete node."""
    while isinstance(node, dict) and "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node
