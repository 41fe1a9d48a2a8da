"""The seam: project subclasses of flask-smorest's Api, Blueprint and argument parser.

Auth documentation (security, 401), error responses and request parsing rules live
here once, so resources only declare what is specific to them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast, overload

import flask_smorest
import orjson
from apispec import BasePlugin
from flask import Response, current_app, g, jsonify, request
from flask_smorest.spec.plugins import FlaskPlugin
from webargs.core import missing
from webargs.flaskparser import FlaskParser
from werkzeug.routing import BaseConverter

from api.auth import optional_user, require_user
from api.errors import fail, handle_http_exception
from api.pipeline import cache, idempotency
from api.pipeline.headers import not_modified
from db.models import IDEMPOTENCY_KEY_MAX
from db.queries import Principal
from schemas.errors import GenericErrorModel

F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)

API_PREFIX = "/api"
TOKEN_SECURITY: list[dict[str, list[str]]] = [{"Token": []}]
OPTIONAL_TOKEN_SECURITY: list[dict[str, list[str]]] = [{}, {"Token": []}]

# Reusable error responses, named as upstream names them, each with the real bodies we send.
ERROR_RESPONSES: dict[int, tuple[str, str, dict[str, dict[str, list[str]]]]] = {
    401: (
        "Unauthorized",
        "No token, or a malformed, expired, forged or revoked one (`token`); a failed login"
        " (`credentials`)",
        {
            "missing": {"token": ["is missing"]},
            "invalid": {"token": ["is invalid"]},
            "login": {"credentials": ["invalid"]},
        },
    ),
    403: (
        "Forbidden",
        "The resource belongs to another user; the key is its type",
        {"article": {"article": ["forbidden"]}, "comment": {"comment": ["forbidden"]}},
    ),
    404: (
        "NotFound",
        "No such resource; the key is its type",
        {
            "article": {"article": ["not found"]},
            "profile": {"profile": ["not found"]},
            "comment": {"comment": ["not found"]},
        },
    ),
    409: (
        "ConflictError",
        "A username or email already taken, a concurrent change to the same name, or an"
        " `Idempotency-Key` in use by a request still in progress",
        {
            "username": {"username": ["has already been taken"]},
            "email": {"email": ["has already been taken"]},
            "idempotency key in progress": {idempotency.HEADER: [idempotency.IN_PROGRESS]},
        },
    ),
    413: (
        "PayloadTooLarge",
        "The request body is larger than the server accepts",
        {"request": {"request": ["is too large (maximum is 1048576 bytes)"]}},
    ),
    415: (
        "UnsupportedMediaType",
        "The request body is not `application/json`",
        {"request": {"request": ["must be application/json"]}},
    ),
    422: (
        "GenericError",
        "Validation failed; each key is the wire name of a field at fault",
        {
            "blank": {"title": ["can't be blank"]},
            "too long": {"username": ["is too long (maximum is 64 characters)"]},
            "malformed JSON": {"request": ["is not valid JSON"]},
            "idempotency key reused": {idempotency.HEADER: [idempotency.OTHER_REQUEST]},
        },
    ),
    429: (
        "TooManyRequests",
        "Rate limit exceeded; retry after `Retry-After` seconds",
        {"rate_limit": {"rate_limit": ["exceeded: at most 10 per 1 minute"]}},
    ),
    503: (
        "ServiceUnavailable",
        "A dependency (the database, or for its operations the model) is unavailable; retry later",
        {
            "database": {"database": ["is unavailable, try again"]},
            "model": {"model": ["is unavailable"]},
        },
    ),
}


IF_NONE_MATCH = {
    "in": "header",
    "name": "If-None-Match",
    "required": False,
    "schema": {"type": "string"},
    "description": "The `ETag` of a copy you hold: 304 and no body if it is still current",
}


IDEMPOTENCY_KEY = {
    "in": "header",
    "name": idempotency.HEADER,
    "required": False,
    "schema": {
        "type": "string",
        "minLength": 1,
        "maxLength": IDEMPOTENCY_KEY_MAX,
        "pattern": "^[!-~]+$",
    },
    "example": "8e03978e-40d5-43e8-bc93-6894a57f9324",
    "description": (
        "A key of your choosing (a UUID) that makes retrying safe: a retry with the same key"
        " and body within 24 hours replays the first answer, with `Idempotency-Replayed:"
        " true`, instead of creating again. The same key with another body is a 422; while"
        " the first request is still running, a 409. Keys are your own (another user's"
        " do not collide); only completed creates are remembered, so a key whose request"
        " failed may be retried or reused."
    ),
}
IDEMPOTENCY_REPLAYED = {
    "description": "`true` when this is the stored answer to an earlier request with the"
    " same `Idempotency-Key`",
    "schema": {"type": "string", "enum": ["true"]},
}


def link(operation_id: str, **parameters: str) -> dict[str, Any]:
    """A link to `operation_id`, its parameters given as runtime expressions."""
    return {"operationId": operation_id, "parameters": parameters}


class Parser(FlaskParser):
    """JSON bodies only (else 415); malformed JSON is a validation failure (422) like any other."""

    DEFAULT_VALIDATION_STATUS = 422

    def _raw_load_json(self, req: Any) -> Any:
        body = req.get_data(cache=True)
        if not body:
            return missing
        if not req.is_json:
            fail(415, "request", "must be application/json")
        # orjson bounds nesting depth, where the standard library would recurse until it fails.
        try:
            return orjson.loads(body)
        except orjson.JSONDecodeError as error:
            # Also invalid UTF-8, which webargs would otherwise mistake for an absent body.
            return self._handle_invalid_json_error(error, req)

    def _handle_invalid_json_error(self, error: Any, req: Any, *args: Any, **kwargs: Any) -> Any:
        fail(422, "request", "is not valid JSON")


class PrefixedFlaskPlugin(FlaskPlugin):  # type: ignore[misc]
    """Document paths relative to the `/api` server URL, as the upstream spec does."""

    def path_helper(self, rule: Any, operations: Any, parameters: Any, **kwargs: Any) -> str:
        path = cast(str, super().path_helper(rule, operations, parameters, **kwargs))
        return path.removeprefix(API_PREFIX) or "/"


class SchemaExtrasPlugin(BasePlugin):
    """Copy a schema class's `OPENAPI_EXTRA` (e.g. minProperties) into its component."""

    def schema_helper(self, name: str, definition: dict[str, Any], **kwargs: Any) -> Any:
        schema = kwargs.get("schema")
        extra = getattr(schema if isinstance(schema, type) else type(schema), "OPENAPI_EXTRA", None)
        return {**definition, **extra} if extra else None


class SlugConverter(BaseConverter):
    """An article slug; never `feed`, which is `/articles/feed` (so `Allow` stays exact)."""

    regex = r"(?!feed$)[^/]+"


class Api(flask_smorest.Api):  # type: ignore[misc]
    ERROR_SCHEMA = GenericErrorModel
    DEFAULT_ERROR_RESPONSE_NAME = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        spec_kwargs = kwargs.setdefault("spec_kwargs", {})
        spec_kwargs["flask_plugin"] = PrefixedFlaskPlugin()
        spec_kwargs["extra_plugins"] = [SchemaExtrasPlugin()]
        super().__init__(*args, **kwargs)

    def _register_responses(self) -> None:
        for name, description, examples in ERROR_RESPONSES.values():
            media = {
                "schema": "GenericErrorModel",
                "examples": {
                    label: {"value": {"errors": errors}} for label, errors in examples.items()
                },
            }
            self.spec.components.response(
                name,
                {"description": description, "content": {"application/json": media}},
                lazy=True,
            )

    def _register_pagination_header(self) -> None:
        """We page with limit/offset in the body (RealWorld), not flask-smorest's header."""

    def handle_http_exception(self, error: Any) -> Any:
        return handle_http_exception(error)

    def _openapi_json(self) -> Response:
        # Served through the app's JSON provider, like every other JSON response.
        return jsonify(self.spec.to_dict())


class Blueprint(flask_smorest.Blueprint):  # type: ignore[misc]
    """flask-smorest's Blueprint with typed decorators and the project's auth/error helpers."""

    ARGUMENTS_PARSER = Parser()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._prepare_doc_cbks.append(self._prepare_conditional_doc)
        self._prepare_doc_cbks.append(self._prepare_validation_doc)
        self._prepare_doc_cbks.append(self._prepare_idempotency_doc)

    @staticmethod
    def _prepare_validation_doc(
        doc: dict[str, Any], doc_info: dict[str, Any], **_kwargs: Any
    ) -> dict[str, Any]:
        # Upstream documents a 422 on every operation; ours are a superset of upstream's.
        doc.setdefault("responses", {}).setdefault(422, ERROR_RESPONSES[422][0])
        return doc

    @staticmethod
    def _prepare_conditional_doc(
        doc: dict[str, Any], doc_info: dict[str, Any], **_kwargs: Any
    ) -> dict[str, Any]:
        # Appended to the parameters the arguments produced, not in place of them.
        if doc_info.get("conditional"):
            doc.setdefault("parameters", []).append(IF_NONE_MATCH)
            doc.setdefault("responses", {})[304] = {
                "description": "Not Modified: the `If-None-Match` ETag still holds"
            }
        return doc

    @staticmethod
    def _prepare_idempotency_doc(
        doc: dict[str, Any], doc_info: dict[str, Any], **_kwargs: Any
    ) -> dict[str, Any]:
        if doc_info.get("idempotent"):
            doc.setdefault("parameters", []).append(IDEMPOTENCY_KEY)
            responses = doc.setdefault("responses", {})
            for code in doc_info.get("success_status_codes", []):
                responses[code].setdefault("headers", {})[idempotency.REPLAYED] = (
                    IDEMPOTENCY_REPLAYED
                )
            responses.setdefault(409, ERROR_RESPONSES[409][0])
            responses.setdefault(422, ERROR_RESPONSES[422][0])
        return doc

    # flask-smorest ships no type hints: these typed pass-throughs keep views checked.
    def route(self, rule: str, **kwargs: Any) -> Callable[[C], C]:
        return cast(Callable[[C], C], super().route(rule, **kwargs))

    def arguments(self, schema: Any, **kwargs: Any) -> Callable[[F], F]:
        parse = super().arguments(schema, **kwargs)

        def decorator(func: F) -> F:
            wrapped = parse(func)
            # Document the validation failure with our named error response, and for a body,
            # the size cap and the media type it must have.
            codes = [422] if kwargs.get("location", "json") != "json" else [413, 415, 422]
            wrapped._apidoc["arguments"]["responses"] = {c: ERROR_RESPONSES[c][0] for c in codes}
            return cast(F, wrapped)

        return decorator

    def response(self, status_code: int, schema: Any = None, **kwargs: Any) -> Callable[[F], F]:
        return cast(Callable[[F], F], super().response(status_code, schema, **kwargs))

    def alt_response(self, status_code: int, **kwargs: Any) -> Callable[[F], F]:
        return cast(Callable[[F], F], super().alt_response(status_code, **kwargs))

    def doc(self, **kwargs: Any) -> Callable[[F], F]:
        return cast(Callable[[F], F], super().doc(**kwargs))

    def errors(self, *codes: int) -> Callable[[F], F]:
        """Document error responses by status code, with the shared error schema."""

        def decorator(func: F) -> F:
            for code in codes:
                func = self.alt_response(code, response=ERROR_RESPONSES[code][0])(func)
            return func

        return decorator

    def links(self, status_code: int, **links: dict[str, Any]) -> Callable[[F], F]:
        """OpenAPI links from a response to follow-up operations (for readers and stateful testers)."""
        return self.doc(responses={status_code: {"links": links}})

    def _authenticated(
        self, func: F, load: Callable[[], Principal | None], security: list[dict[str, list[str]]]
    ) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            g.user = load()
            return func(*args, **kwargs)

        documented = self.doc(security=security)(cast(F, wrapper))
        return self.errors(401)(documented)

    def auth_required(self, func: F) -> F:
        """A valid token is required; the user is then `current_user()`."""
        return self._authenticated(func, require_user, TOKEN_SECURITY)

    def auth_optional(self, func: F) -> F:
        """A token may be presented (and is then checked); the user is then `viewer()`."""
        return self._authenticated(func, optional_user, OPTIONAL_TOKEN_SECURITY)

    def public(self, func: F) -> F:
        """No token needed, and one presented is ignored."""
        return self.doc(security=[])(func)

    def cached(self, func: F) -> F:
        """Anonymous reads answered from the shared read cache (api/pipeline/cache.py); outermost.

        Any write that commits makes them unreachable before its answer leaves.
        """
        return cache.cached(func)

    def cache_neutral(self, func: F) -> F:
        """What this write commits (sessions, tokens) shows in no cached read: no invalidation."""
        return cache.neutral(func)

    @overload
    def idempotent(self, func: F) -> F: ...

    @overload
    def idempotent(self, *, token: idempotency.TokenPath) -> Callable[[F], F]: ...

    def idempotent(
        self, func: F | None = None, *, token: idempotency.TokenPath | None = None
    ) -> F | Callable[[F], F]:
        """An optional `Idempotency-Key` header makes retries replay the first answer.

        Stack it right under `arguments` (a body that fails validation claims no key) and
        over `response` (it stores the response made). `token` names where the answer
        carries an access token, which is reissued on replay rather than stored.
        See api/pipeline/idempotency.py.
        """

        def decorator(view: F) -> F:
            wrapper = idempotency.guard(view, token)
            wrapper._apidoc = {**getattr(wrapper, "_apidoc", {}), "idempotent": True}  # type: ignore[attr-defined]
            return wrapper

        return decorator if func is None else decorator(func)

    def conditional(self, func: F) -> F:
        """Conditional GET: an `ETag` on 200s, and 304 (no body) when `If-None-Match` matches."""

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            response = current_app.make_response(func(*args, **kwargs))
            if response.status_code == 200:
                response.add_etag()  # a hash of the body: the page as this viewer sees it
                # Not werkzeug's make_conditional: its Date header (gunicorn sends its own)
                # and range handling cost a twentieth of a one-row read, for nothing here.
                if not_modified(request.environ, response.get_etag()[0]):
                    response.status_code = 304  # werkzeug then sends no body nor entity headers
            return response

        wrapper._apidoc = {**getattr(wrapper, "_apidoc", {}), "conditional": True}  # type: ignore[attr-defined]
        return cast(F, wrapper)
