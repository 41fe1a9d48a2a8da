"""The spec-diff gate (openapi/specdiff): a mutation corpus, the real 1.x -> 2.0 diff, our own
spec history replayed, the version gate, release notes and upstream conformance. Pure unit tests.
"""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from openapi.specdiff import changelog
from openapi.specdiff.document import Change, Document, Finding, SpecError
from openapi.specdiff.gate import RELEASES, ROOT, SPEC, baseline, gate, releases, sdk_versions
from openapi.specdiff.operations import diff
from openapi.specdiff.rules import RULES
from openapi.specdiff.upstream import UPSTREAM, conformance

Spec = dict[str, Any]
Op = tuple[Any, ...]  # ("add", pointer, value) | ("remove", pointer) | ("move", from, to)
BASE: Spec = json.loads(SPEC.read_text())

# -- edits as JSON-Patch-like operations on JSON pointers; `@name` picks a list element by its
# name (a parameter) or value (a `required` entry), so a reordered spec still works ----------


def _step(node: Any, token: str) -> Any:
    if not isinstance(node, list):
        return node[token]
    if token.startswith("@"):
        name = token[1:]
        return next(x for x in node if x == name or (isinstance(x, dict) and x.get("name") == name))
    return node[int(token)]


def _parent(spec: Spec, path: str) -> tuple[Any, str]:
    tokens = [t.replace("~1", "/").replace("~0", "~") for t in path.split("/")[1:]]
    node: Any = spec
    for token in tokens[:-1]:
        node = _step(node, token)
    return node, tokens[-1]


def patch(spec: Spec, *ops: Op) -> Spec:
    for kind, path, *rest in ops:
        parent, key = _parent(spec, path)
        if kind in ("remove", "move"):
            value = _step(parent, key)
            if isinstance(parent, list):
                parent.remove(value)
            else:
                del parent[key]
            if kind == "remove":
                continue
            parent, key = _parent(spec, rest[0])
            rest = [value]
        if isinstance(parent, list):  # only appends ("-"): enough for the corpus
            parent.append(copy.deepcopy(rest[0]))
        else:
            parent[key] = copy.deepcopy(rest[0])
    return spec


S = "/components/schemas/"
ARTICLES = "/paths/~1articles/get"
TAG = ARTICLES + "/parameters/@tag"
LIMIT = ARTICLES + "/parameters/@limit/schema"
OFFSET = ARTICLES + "/parameters/@offset/schema"
TAGS = "/paths/~1tags/get"
TAGS_200 = TAGS + "/responses/200"
HEALTH = S + "Health/properties/status"
PROFILE = {"$ref": "#/components/schemas/Profile"}
HEADER = {"X-Total-Count": {"required": True, "schema": {"type": "integer"}}}
LANG = {"in": "query", "name": "lang", "schema": {"type": "string"}}
OBJECT = {"schema": {"type": "object"}}


@dataclass(frozen=True)
class Edit:
    name: str
    rule: str  # a rule that must fire: the edit's headline ("" for none at all)
    change: tuple[Op, ...]
    setup: tuple[Op, ...] = ()  # applied to both sides first

    @property
    def breaking(self) -> bool:
        return RULES[self.rule].breaking

    def apply(self) -> tuple[Document, Document]:
        """Both sides, each validated by openapi-spec-validator (an edit must stay valid)."""
        before = patch(copy.deepcopy(BASE), *self.setup)
        after = patch(copy.deepcopy(before), *self.change)
        return _document(before) if self.setup else BASE_DOCUMENT, _document(after)


def _document(spec: Spec) -> Document:
    return Document(spec, name="edited")


BASE_DOCUMENT = _document(copy.deepcopy(BASE))


def E(name: str, rule: str, *change: Op, setup: tuple[Op, ...] = ()) -> Edit:
    return Edit(name, rule, change, setup)


# The corpus: one line per edit (a table, so the formatter leaves it alone).
# fmt: off
BREAKING = [
    E("path removed", "path-removed", ("remove", "/paths/~1tags")),
    E("operation removed", "operation-removed", ("remove", "/paths/~1user/put")),
    E("response status removed", "response-status-removed", ("remove", "/paths/~1articles~1{slug}/delete/responses/204")),
    E("success status 201 -> 200", "response-status-removed", ("move", "/paths/~1users/post/responses/201", "/paths/~1users/post/responses/200")),
    E("response property removed", "response-property-removed", ("remove", S + "Profile/properties/following"), ("remove", S + "Profile/required/@following")),
    E("request property removed", "request-property-removed", ("remove", S + "NewArticle/properties/tagList")),
    E("request enum value removed", "request-enum-narrowed", ("remove", TAG + "/schema/enum/@c"), setup=(("add", TAG + "/schema/enum", ["a", "b", "c"]),)),
    E("request enum introduced", "request-enum-narrowed", ("add", S + "NewArticle/properties/title/enum", ["Hi"])),
    E("request property now required", "request-property-became-required", ("add", S + "NewArticle/required/-", "tagList")),
    E("required request property added", "request-property-added-required", ("add", S + "NewUser/properties/birthday", {"type": "string"}), ("add", S + "NewUser/required/-", "birthday")),
    E("required query parameter added", "parameter-added-required", ("add", ARTICLES + "/parameters/-", {**LANG, "required": True})),
    E("parameter now required", "parameter-became-required", ("add", TAG + "/required", True)),
    E("parameter removed", "parameter-removed", ("remove", ARTICLES + "/parameters/@favorited")),
    E("request type changed", "request-type-changed", ("add", S + "NewComment/properties/body/type", "integer")),
    E("request type narrowed (number -> integer)", "request-type-narrowed", ("add", OFFSET + "/type", "integer"), setup=(("add", OFFSET + "/type", "number"),)),
    E("request null refused (3.1 type array)", "request-not-nullable", ("add", S + "UpdateUser/properties/bio/type", "string")),
    E("request format added", "request-format-narrowed", ("add", S + "NewArticle/properties/title/format", "uuid")),
    E("request format changed", "request-format-changed", ("add", S + "NewUser/properties/email/format", "idn-email")),
    E("request pattern added", "request-pattern-narrowed", ("add", S + "LoginUser/properties/email/pattern", "^[^@]+@[^@]+$")),
    E("request pattern changed", "request-pattern-changed", ("add", S + "NewUser/properties/username/pattern", "^[a-z]+$")),
    E("request minimum raised", "request-bound-narrowed", ("add", LIMIT + "/minimum", 5)),
    E("request maxLength lowered", "request-bound-narrowed", ("add", S + "UpdateUser/properties/username/maxLength", 32)),
    E("request maximum added", "request-bound-narrowed", ("add", OFFSET + "/maximum", 1000)),
    E("request maxItems lowered", "request-bound-narrowed", ("add", S + "NewArticle/properties/tagList/maxItems", 5)),
    E("request uniqueItems added", "request-bound-narrowed", ("add", S + "NewArticle/properties/tagList/uniqueItems", True)),
    E("request additionalProperties: false", "request-additional-properties-narrowed", ("add", S + "NewArticle/additionalProperties", False)),
    E("request default changed", "request-default-changed", ("add", LIMIT + "/default", 10)),
    E("required request body added", "request-body-added-required", ("add", "/paths/~1articles~1{slug}/delete/requestBody", {"required": True, "content": {"application/json": OBJECT}})),
    E("request media type changed", "request-media-type-removed", ("move", "/paths/~1users/post/requestBody/content/application~1json", "/paths/~1users/post/requestBody/content/application~1vnd.conduit+json")),
    E("response media type changed", "response-media-type-removed", ("move", TAGS_200 + "/content/application~1json", TAGS_200 + "/content/text~1plain")),
    E("response may be null (3.1 type array)", "response-nullable", ("add", S + "Article/properties/title/type", ["string", "null"])),
    E("response may be null (anyOf null)", "response-nullable", ("add", S + "Article/properties/author", {"anyOf": [PROFILE, {"type": "null"}]})),
    E("response may be null (3.0 nullable)", "response-nullable", ("add", S + "Comment/properties/body/nullable", True)),
    E("response property no longer required", "response-property-became-optional", ("remove", S + "Article/required/@slug")),
    E("response enum value added", "response-enum-widened", ("add", HEALTH + "/enum/-", "degraded"), setup=(("add", HEALTH + "/enum", ["ok"]),)),
    E("response enum dropped", "response-enum-widened", ("remove", HEALTH + "/enum"), setup=(("add", HEALTH + "/enum", ["ok"]),)),
    E("response type widened (integer -> number)", "response-type-widened", ("add", S + "Article/properties/favoritesCount/type", "number")),
    E("response array items widened", "response-type-widened", ("add", S + "TagsResponse/properties/tags/items/type", ["string", "integer"])),
    E("response maxLength raised", "response-bound-widened", ("add", S + "Article/properties/title/maxLength", 300)),
    E("response format removed", "response-format-widened", ("remove", S + "Article/properties/createdAt/format")),
    E("response oneOf branch added", "response-variant-added", ("add", S + "Article/properties/author", {"oneOf": [PROFILE, {"type": "string"}]})),
    E("response header removed", "response-header-removed", ("remove", TAGS_200 + "/headers"), setup=(("add", TAGS_200 + "/headers", HEADER),)),
    E("auth required on a public operation", "security-changed", ("add", TAGS + "/security", [{"Token": []}])),
    E("optional auth made required", "security-changed", ("add", ARTICLES + "/security", [{"Token": []}])),
    E("security scheme changed", "security-scheme-changed", ("add", "/components/securitySchemes/Token/name", "X-Token")),
    E("operationId changed", "operation-id-changed", ("add", TAGS + "/operationId", "ListTags")),
    E("parameter serialization changed", "parameter-serialization-changed", ("add", TAG + "/explode", False)),
    E("server moved", "server-removed", ("add", "/servers/0/url", "/api/v2")),
]

COMPATIBLE = [
    E("path added", "path-added", ("add", "/paths/~1stats", {"get": {"operationId": "GetStats", "responses": {"200": {"description": "OK"}}}})),
    E("operation added", "operation-added", ("add", "/paths/~1tags/post", {"operationId": "CreateTag", "responses": {"201": {"description": "Created"}}})),
    E("optional query parameter added", "parameter-added-optional", ("add", ARTICLES + "/parameters/-", LANG)),
    E("optional request property added", "request-property-added-optional", ("add", S + "NewArticle/properties/subtitle", {"type": "string"})),
    E("response property added", "response-property-added", ("add", S + "Article/properties/readingTime", {"type": "integer"}), ("add", S + "Article/required/-", "readingTime")),
    E("request maxLength raised", "request-bound-widened", ("add", S + "NewArticle/properties/title/maxLength", 400)),
    E("request minLength lowered", "request-bound-widened", ("add", S + "NewUser/properties/password/minLength", 6)),
    E("request maximum removed", "request-bound-widened", ("remove", "/paths/~1articles~1{slug}~1comments~1{id}/parameters/@id/schema/maximum")),
    E("request pattern removed", "request-pattern-widened", ("remove", S + "NewUser/properties/username/pattern")),
    E("request enum value added", "request-enum-widened", ("add", TAG + "/schema/enum/-", "c"), setup=(("add", TAG + "/schema/enum", ["a", "b"]),)),
    E("request accepts null", "request-nullable", ("add", S + "NewArticle/properties/description/type", ["string", "null"])),
    E("request type widened (integer -> number)", "request-type-widened", ("add", LIMIT + "/type", "number")),
    E("request property now optional", "request-property-became-optional", ("remove", S + "NewUser/required/@username")),
    E("parameter now optional", "parameter-became-optional", ("add", TAG + "/required", False), setup=(("add", TAG + "/required", True),)),
    E("request additionalProperties opened", "request-additional-properties-widened", ("remove", S + "NewArticle/additionalProperties"), setup=(("add", S + "NewArticle/additionalProperties", False),)),
    E("request media type added", "request-media-type-added", ("add", "/paths/~1users/post/requestBody/content/text~1plain", OBJECT)),
    E("response enum value removed", "response-enum-narrowed", ("remove", HEALTH + "/enum/@degraded"), setup=(("add", HEALTH + "/enum", ["ok", "degraded"]),)),
    E("response never null now", "response-not-nullable", ("add", S + "Profile/properties/bio/type", "string")),
    E("response maxLength lowered", "response-bound-narrowed", ("add", S + "Article/properties/title/maxLength", 100)),
    E("response status added", "response-status-added", ("add", TAGS + "/responses/503", {"description": "Unavailable"})),
    E("response media type added", "response-media-type-added", ("add", TAGS_200 + "/content/application~1xml", OBJECT)),
    E("response header added", "response-header-added", ("add", TAGS_200 + "/headers", HEADER)),
    E("auth made optional", "security-relaxed", ("add", "/paths/~1user/get/security", [{"Token": []}, {}])),
    E("operation deprecated", "operation-deprecated", ("add", TAGS + "/deprecated", True)),
    E("server added", "server-added", ("add", "/servers/-", {"url": "https://conduit.example.com/api"})),
]

# Other spellings of the same contract: no finding at all.
EQUIVALENT = [
    E("type array -> anyOf with null", "", ("add", S + "Profile/properties/bio", {"anyOf": [{"type": "string"}, {"type": "null"}]})),
    E("type array -> oneOf with null", "", ("add", S + "Profile/properties/image", {"oneOf": [{"type": "null"}, {"type": "string"}]})),
    E("type array -> 3.0 nullable", "", ("add", S + "Profile/properties/bio", {"type": "string", "nullable": True})),
    E("$ref inlined", "", ("add", S + "Article/properties/author", BASE["components"]["schemas"]["Profile"])),
    E("$ref wrapped in allOf", "", ("add", S + "Article/properties/author", {"allOf": [PROFILE], "description": "who wrote it"})),
    E("descriptions and examples", "", ("add", TAGS + "/description", "All tags."), ("add", S + "Article/properties/title/example", "Hi")),
    E("required listed in another order", "", ("add", S + "Article/required", sorted(BASE["components"]["schemas"]["Article"]["required"], reverse=True))),
]
# fmt: on


_classified: dict[int, list[Finding]] = {}


def classify(edit: Edit) -> list[Finding]:
    if id(edit) not in _classified:
        _classified[id(edit)] = diff(*edit.apply())
    return _classified[id(edit)]


def _rules(findings: list[Finding]) -> set[str]:
    return {finding.change.rule for finding in findings}


def right(edit: Edit) -> bool:
    findings = classify(edit)
    return edit.rule in _rules(findings) and any(f.breaking for f in findings) is edit.breaking


@pytest.mark.parametrize("edit", BREAKING + COMPATIBLE, ids=lambda edit: edit.name)
def test_each_edit_is_classified_right(edit: Edit) -> None:
    assert right(edit), [f.change for f in classify(edit)]


@pytest.mark.parametrize("edit", EQUIVALENT, ids=lambda edit: edit.name)
def test_equivalent_spellings_change_nothing(edit: Edit) -> None:
    assert classify(edit) == []


def test_corpus_score_is_total() -> None:
    assert len(BREAKING) >= 25 and len(COMPATIBLE) >= 10
    breaking, compatible = sum(map(right, BREAKING)), sum(map(right, COMPATIBLE))
    score = f"{breaking}/{len(BREAKING)} breaking, {compatible}/{len(COMPATIBLE)} compatible"
    print(f"corpus: {score}")
    assert (breaking, compatible) == (len(BREAKING), len(COMPATIBLE)), score


def test_a_change_in_a_shared_schema_is_one_finding_reaching_every_operation() -> None:
    (finding,) = diff(*E("", "", ("add", S + "Profile/properties/username/maxLength", 100)).apply())
    assert finding.change.pointer == "#/components/schemas/Profile/properties/username"
    assert finding.change.rule == "response-bound-widened"
    assert {"GetProfileByUsername 200", "GetArticle 200", "GetArticleComments 200"} <= set(
        finding.where
    )


def test_openapi_30_nullable_in_a_response_is_breaking() -> None:
    def spec(nullable: bool) -> Spec:
        name = {"type": "string", **({"nullable": True} if nullable else {})}
        body = {"type": "object", "required": ["name"], "properties": {"name": name}}
        ok = {"description": "OK", "content": {"application/json": {"schema": body}}}
        return {
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1.0.0"},
            "paths": {"/x": {"get": {"responses": {"200": ok}}}},
        }

    (finding,) = diff(Document(spec(False)), Document(spec(True)))
    assert finding.change.rule == "response-nullable" and finding.breaking


def test_every_rule_has_a_reason_and_a_known_group() -> None:
    for rule_id, rule in RULES.items():
        assert rule.reason and rule.group in {"Breaking", "Added", "Changed"}, rule_id
    with pytest.raises(KeyError):
        Change("no-such-rule", "#", "")


def test_an_invalid_document_is_refused_with_the_dangling_ref() -> None:
    spec = patch(
        copy.deepcopy(BASE),
        ("add", TAGS + "/responses/418", {"$ref": "#/components/responses/Teapot"}),
    )
    with pytest.raises(SpecError, match="Teapot"):
        Document(spec)


# -- the real 1.1.0 -> 2.0.0 change -----------------------------------------------------------


def real_diff() -> list[Finding]:
    return diff(Document.load(RELEASES / "1.1.0.json"), Document.load(SPEC))


def test_the_release_baseline_is_the_1_1_0_spec_byte_for_byte() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("git or the repository's history is unavailable")
    shown = subprocess.run(
        ["git", "-C", str(ROOT), "show", "bc94c6c:openapi/openapi.json"],
        capture_output=True,
        check=False,
    )
    if shown.returncode != 0:
        pytest.skip(f"bc94c6c is not in this clone's history: {shown.stderr.decode().strip()}")
    assert (RELEASES / "1.1.0.json").read_bytes() == shown.stdout


def test_1_1_to_2_0_is_breaking_with_the_headline_findings() -> None:
    findings = real_diff()
    breaking = {(f.change.rule, f.change.pointer) for f in findings if f.breaking}
    assert (
        "response-property-removed",
        "#/components/schemas/GenericErrorBody/properties/body",
    ) in breaking
    for who in ("Profile", "User"):
        for field in ("bio", "image"):
            assert (
                "response-nullable",
                f"#/components/schemas/{who}/properties/{field}",
            ) in breaking
    assert (
        "response-status-removed",
        "#/paths/~1articles~1{slug}~1comments/post/responses/200",
    ) in breaking
    compatible = {(f.change.rule, f.change.pointer) for f in findings if not f.breaking}
    assert (
        "response-status-added",
        "#/paths/~1articles~1{slug}~1comments/post/responses/201",
    ) in compatible
    assert (
        "request-bound-widened",
        "#/paths/~1articles/get/parameters/0/schema",
    ) in compatible  # limit max
    error = next(
        f for f in findings if f.change.pointer.endswith("GenericErrorBody/properties/body")
    )
    assert "GenericErrorModel/properties/errors" in error.reason
    assert ("response-status-added", "#/paths/~1users/post/responses/409") in compatible


def test_1_1_to_2_0_passes_the_gate_as_a_major_bump() -> None:
    verdict = gate("1.1.0", "2.0.0", real_diff(), {"python": "2.0.0", "typescript": "2.0.0"})
    assert verdict.ok, verdict.message
    assert "major bump" in verdict.message


# -- our own history --------------------------------------------------------------------------

# Breaks between two commits that kept the 1.x version: found by the replay below, each one
# checked by hand. All but the last are real for a client generated from the spec.
KNOWN_BREAKS: dict[str, tuple[str, set[tuple[str, str]]]] = {
    "4541178": (
        "real: text rules stated as patterns (control characters now refused), empty updates "
        "refused (minProperties), and following yourself moved from 422 to 403",
        {
            ("request-pattern-narrowed", "#/components/schemas/NewArticle/properties/body"),
            ("request-pattern-narrowed", "#/components/schemas/NewArticle/properties/description"),
            (
                "request-pattern-narrowed",
                "#/components/schemas/NewArticle/properties/tagList/items",
            ),
            ("request-pattern-narrowed", "#/components/schemas/NewArticle/properties/title"),
            ("request-pattern-narrowed", "#/components/schemas/NewComment/properties/body"),
            ("request-bound-narrowed", "#/components/schemas/UpdateArticle"),
            ("request-pattern-narrowed", "#/components/schemas/UpdateArticle/properties/body"),
            (
                "request-pattern-narrowed",
                "#/components/schemas/UpdateArticle/properties/description",
            ),
            (
                "request-pattern-narrowed",
                "#/components/schemas/UpdateArticle/properties/tagList/items",
            ),
            ("request-pattern-narrowed", "#/components/schemas/UpdateArticle/properties/title"),
            ("request-bound-narrowed", "#/components/schemas/UpdateUser"),
            ("request-pattern-narrowed", "#/components/schemas/UpdateUser/properties/bio"),
            ("request-pattern-narrowed", "#/components/schemas/UpdateUser/properties/image"),
            ("request-pattern-narrowed", "#/paths/~1articles/get/parameters/2/schema"),
            ("request-pattern-narrowed", "#/paths/~1articles/get/parameters/3/schema"),
            ("request-pattern-narrowed", "#/paths/~1articles/get/parameters/4/schema"),
            (
                "response-status-removed",
                "#/paths/~1profiles~1{username}~1follow/post/responses/422",
            ),
        },
    ),
    "b8eb65d": (
        "real, a regression: the If-None-Match doc callback replaced the list operations' query "
        "parameters instead of adding to them; 66ace07 put them back",
        {
            ("parameter-removed", "#/paths/~1articles/get/parameters/0"),
            ("parameter-removed", "#/paths/~1articles/get/parameters/1"),
            ("parameter-removed", "#/paths/~1articles/get/parameters/2"),
            ("parameter-removed", "#/paths/~1articles/get/parameters/3"),
            ("parameter-removed", "#/paths/~1articles/get/parameters/4"),
            ("parameter-removed", "#/paths/~1articles~1feed/get/parameters/0"),
            ("parameter-removed", "#/paths/~1articles~1feed/get/parameters/1"),
        },
    ),
    "66ace07": (
        "real in the spec: passwords with NUL were already refused, now the pattern says so",
        {
            ("request-pattern-narrowed", "#/components/schemas/NewUser/properties/password"),
            ("request-pattern-narrowed", "#/components/schemas/UpdateUser/properties/password"),
        },
    ),
    "3562f27": (
        "real: image URLs with a bracketed host are refused",
        {("request-pattern-changed", "#/components/schemas/UpdateUser/properties/image")},
    ),
    "a80807b": (
        "false positive: the pattern spells out ECMA-262's \\s; the same strings match, but "
        "patterns are compared as text",
        {("request-pattern-changed", "#/components/schemas/UpdateUser/properties/image")},
    ),
}
INVALID = {
    "0ef1a6a": "its 422 responses point at #/components/responses/UNPROCESSABLE_ENTITY, which it lacks"
}


def _history() -> list[tuple[str, str]]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed: no history to replay")
    log = subprocess.run(
        ["git", "-C", str(ROOT), "log", "--format=%H", "--", "openapi/openapi.json"],
        capture_output=True,
        text=True,
        check=False,
    )
    if log.returncode != 0 or not log.stdout.split():
        pytest.skip(
            f"no git history of openapi/openapi.json here: {log.stderr.strip() or 'empty log'}"
        )
    commits = log.stdout.split()[::-1]
    if len(commits) < 2:
        pytest.skip("a shallow clone: fewer than two commits of openapi/openapi.json")
    return [
        (
            commit,
            subprocess.run(
                ["git", "-C", str(ROOT), "show", f"{commit}:openapi/openapi.json"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout,
        )
        for commit in commits
    ]


def _exists(commit: str, path: str) -> bool:
    shown = subprocess.run(
        ["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}:{path}"],
        capture_output=True,
        check=False,
    )
    return shown.returncode == 0


def _unreleased_work(commit: str, before: str, after: str) -> bool:
    """Two commits of one version that was not yet released: work on the next release, which
    clients never saw, and which the gate measures as a whole against the previous release.
    (Before openapi/releases/ existed every committed spec counts as released.)"""
    return (
        before == after
        and _exists(commit, "openapi/releases")
        and not _exists(commit, f"openapi/releases/{after}.json")
    )


def test_replaying_our_spec_history_breaks_only_where_documented() -> None:
    previous: Document | None = None
    found: dict[str, set[tuple[str, str]]] = {}
    replayed = set()
    for commit, text in _history():
        try:
            current = Document.parse(text, name=commit[:7])
        except SpecError:
            assert commit[:7] in INVALID, f"{commit[:7]}: an invalid spec nobody documented"
            previous = None
            continue
        if (
            previous is not None
            and previous.version.split(".")[0] == current.version.split(".")[0]
            and not _unreleased_work(commit, previous.version, current.version)
        ):
            replayed.add(commit[:7])
            breaks = {
                (f.change.rule, f.change.pointer) for f in diff(previous, current) if f.breaking
            }
            if breaks:
                found[commit[:7]] = breaks
        previous = current
    expected = {
        commit: breaks for commit, (_, breaks) in KNOWN_BREAKS.items() if commit in replayed
    }
    assert found == expected, (
        "a commit broke clients without a major bump: bump info.version, or list the break in "
        "KNOWN_BREAKS with the reason it is acceptable"
    )


# -- the gate ---------------------------------------------------------------------------------

BREAK = Finding(
    Change(
        "response-property-removed",
        "#/components/schemas/Profile/properties/bio",
        "property bio removed",
    )
)
ADD = Finding(
    Change(
        "response-property-added",
        "#/components/schemas/Profile/properties/age",
        "property age added",
    )
)
SDKS = {"Python SDK": "", "TypeScript SDK": ""}


def sdks(version: str) -> dict[str, str]:
    return dict.fromkeys(SDKS, version)


@pytest.mark.parametrize(
    ("old", "new", "findings", "needed", "to"),
    [
        ("1.1.0", "1.2.0", [BREAK, ADD], "major", "2.0.0"),
        ("1.1.0", "1.1.0", [BREAK], "major", "2.0.0"),
        ("2.0.0", "2.0.1", [ADD], "minor", "2.1.0"),
        ("2.0.0", "2.0.0", [ADD], "minor", "2.1.0"),
    ],
)
def test_the_gate_fails_without_the_bump_and_says_which(
    old: str, new: str, findings: list[Finding], needed: str, to: str
) -> None:
    verdict = gate(old, new, findings, sdks(new))
    assert not verdict.ok
    assert f"a {needed} bump" in verdict.message
    assert f"Set the version to {to}:" in verdict.message
    assert "api/app.py" in verdict.message and "package.json" in verdict.message


@pytest.mark.parametrize(
    ("old", "new", "findings", "differs"),
    [
        ("1.1.0", "2.0.0", [BREAK], True),
        ("1.1.0", "3.0.0", [BREAK, ADD], True),
        ("2.0.0", "2.1.0", [ADD], True),
        ("2.0.0", "3.0.0", [ADD], True),
        ("2.0.0", "2.0.1", [], True),  # descriptions only: a patch
        ("2.0.0", "2.0.0", [], False),  # the released document itself
    ],
)
def test_the_gate_passes_with_enough_of_a_bump(
    old: str, new: str, findings: list[Finding], differs: bool
) -> None:
    verdict = gate(old, new, findings, sdks(new), differs=differs)
    assert verdict.ok, verdict.message


def test_a_released_document_never_changes_even_in_its_descriptions() -> None:
    verdict = gate("2.0.0", "2.0.0", [], sdks("2.0.0"), differs=True)
    assert not verdict.ok and "Set the version to 2.0.1" in verdict.message


def test_the_gate_wants_the_sdks_at_the_spec_version() -> None:
    verdict = gate("1.1.0", "2.0.0", [BREAK], {"Python SDK": "2.0.0", "TypeScript SDK": "1.1.0"})
    assert not verdict.ok
    assert "TypeScript SDK has version 1.1.0, info.version is 2.0.0" in verdict.message


def test_the_baseline_is_the_newest_release_at_or_below_the_version(tmp_path: Path) -> None:
    for version in ("1.0.0", "1.1.0", "2.0.0", "notes"):
        (tmp_path / f"{version}.json").write_text("{}")
    assert set(map(str, releases(tmp_path))) == {"1.0.0", "1.1.0", "2.0.0"}
    chosen = {
        version: str(found[0]) if (found := baseline(version, tmp_path)) else None
        for version in ("0.9.0", "1.0.0", "1.5.0", "2.0.0", "2.1.0")
    }
    assert chosen == {
        "0.9.0": None,
        "1.0.0": "1.0.0",
        "1.5.0": "1.1.0",
        "2.0.0": "2.0.0",
        "2.1.0": "2.0.0",
    }


# -- release notes ----------------------------------------------------------------------------


def test_release_notes_group_breaking_added_changed(tmp_path: Path) -> None:
    text = changelog.section("2.0.0", "1.1.0", real_diff())
    assert text.startswith("## 2.0.0\n\nAgainst 1.1.0: a major release.")
    assert text.index("### Breaking") < text.index("### Added") < text.index("### Changed")
    assert "`#/paths/~1articles~1{slug}~1comments/post/responses/200` (in 1.1.0)" in text
    target = tmp_path / "CHANGELOG.md"
    changelog.write(changelog.section("1.2.0", "1.1.0", []), target)
    changelog.write(text, target)
    changelog.write(text, target)  # rewriting replaces the section
    written = target.read_text()
    assert written.startswith("# Changelog") and written.count("## 2.0.0") == 1
    assert written.index("## 2.0.0") < written.index("## 1.2.0")
    lead = "What 2.0 means, written by hand."
    target.write_text(written.replace("a major release.\n", f"a major release.\n\n{lead}\n", 1))
    changelog.write(text, target)
    assert target.read_text().count(lead) == 1
    assert target.read_text().index(lead) < target.read_text().index("### Breaking")


def test_sdk_versions_are_read_from_the_packages(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "conduit-client"\nversion = "2.0.0"\n'
    )
    (tmp_path / "package.json").write_text('{"name": "conduit-client", "version": "2.0.1"}')
    found = sdk_versions(tmp_path / "pyproject.toml", tmp_path / "package.json")
    assert sorted(found.values()) == ["2.0.0", "2.0.1"]
    assert "missing" in sdk_versions(tmp_path / "absent.toml", tmp_path / "package.json").values()


def test_the_changelog_records_2_0_0_as_breaking() -> None:
    text = changelog.CHANGELOG.read_text()
    section = text[text.index("## 2.0.0") :]
    assert "### Breaking" in section and "GenericErrorBody/properties/body" in section


# -- upstream conformance ---------------------------------------------------------------------


def upstream() -> Document:
    if not UPSTREAM.exists():
        pytest.skip(
            f"{UPSTREAM} is absent (a clone of this repository alone): nothing to compare with"
        )
    return Document.load(UPSTREAM)


def test_our_spec_covers_upstream() -> None:
    coverage = conformance(Document.load(SPEC), upstream())
    assert coverage.problems == [] and coverage.operations == 19


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("remove", TAGS), "GetTags (GET /tags): upstream operation missing"),
        (("remove", "/paths/~1users/post/responses/409"), "upstream status 409 missing"),
        (
            ("remove", S + "Article/required/@slug"),
            "field slug is required upstream, optional in ours",
        ),
        (
            ("add", S + "UpdateArticle/required", ["title"]),
            "field title is required in ours, optional upstream",
        ),
        (
            ("remove", S + "NewArticle/properties/tagList"),
            "field tagList (upstream defines it) missing from ours",
        ),
        (("add", TAG + "/required", True), "query parameter tag is required in ours, not upstream"),
    ],
)
def test_upstream_conformance_finds_what_we_dropped(change: Op, problem: str) -> None:
    theirs = upstream()
    problems = conformance(Document(patch(copy.deepcopy(BASE), change)), theirs).problems
    assert any(problem in p for p in problems), problems
