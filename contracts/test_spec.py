"""Our committed OpenAPI document: valid, complete, and describing exactly the app's routes."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from openapi_spec_validator import validate

from api import create_app
from contracts.specs import OUR_SPEC, operations, ours, resolve
from openapi.write import render
from testkit.settings import make_settings

UPSTREAM_OPERATION_IDS = {
    "Login", "CreateUser", "GetCurrentUser", "UpdateCurrentUser", "GetProfileByUsername",
    "FollowUserByUsername", "UnfollowUserByUsername", "GetArticlesFeed", "GetArticles",
    "CreateArticle", "GetArticle", "UpdateArticle", "DeleteArticle", "GetArticleComments",
    "CreateArticleComment", "DeleteArticleComment", "CreateArticleFavorite",
    "DeleteArticleFavorite", "GetTags",
}  # fmt: skip
# Beyond the RealWorld spec: probes, sessions and token revocation, notifications.
OUR_OPERATION_IDS = {
    "GetHealth", "GetReadiness", "Logout", "RefreshToken", "GetNotifications", "MarkNotificationsRead",
    "SuggestTags", "GetRelatedArticles",
}  # fmt: skip
# Served by the app but not API operations: the spec itself and its UI.
NOT_OPERATIONS = re.compile(r"^/api/(openapi\.json|docs(/.*)?)$")


def test_committed_spec_is_current_and_valid() -> None:
    spec = ours()
    assert render() == OUR_SPEC.read_text()
    assert spec["openapi"] == "3.1.0"
    validate(spec)


def test_every_operation_is_fully_documented() -> None:
    spec = ours()
    found = operations(spec)
    assert set(found) == UPSTREAM_OPERATION_IDS | OUR_OPERATION_IDS
    for operation_id, (_method, _path, operation) in found.items():
        assert operation["summary"] and operation["description"], operation_id
        assert len(operation["tags"]) == 1, operation_id
        assert "security" in operation, operation_id
        for status, response in operation["responses"].items():
            response = resolve(spec, response)
            assert response["description"], (operation_id, status)
            if status.startswith(("4", "5")):
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/GenericErrorModel"}
        if operation["security"] and operation["security"] != [{}]:
            assert "401" in operation["responses"], operation_id
        if "requestBody" in operation:
            assert "422" in operation["responses"], operation_id
            assert "example" in operation["requestBody"]["content"]["application/json"]


def test_component_names_are_clean() -> None:
    names = ours()["components"]["schemas"]
    for name in names:
        assert not name.endswith("Schema"), name
        assert not re.search(r"\d$", name), f"{name}: an accidental duplicate schema"


def test_links_point_at_real_operations_and_parameters() -> None:
    spec = ours()
    found = operations(spec)
    links = 0
    for _method, _path, operation in found.values():
        for response in operation["responses"].values():
            for link in resolve(spec, response).get("links", {}).values():
                links += 1
                _method, path, _target = found[link["operationId"]]
                params = set(re.findall(r"{(\w+)}", path))
                assert set(link["parameters"]) == params, (link, path)
    assert links >= 15


def _url_map_operations(app: Flask) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/") or NOT_OPERATIONS.match(rule.rule):
            continue
        path = re.sub(r"<(?:[^:<>]+:)?(\w+)>", r"{\1}", rule.rule).removeprefix("/api")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            found.add((method, path))
    return found


def test_routes_and_spec_describe_the_same_operations() -> None:
    app = create_app(make_settings("sqlite://"))
    documented: set[tuple[str, Any]] = {
        (method, path) for method, path, _ in operations(ours()).values()
    }
    assert _url_map_operations(app) == documented
