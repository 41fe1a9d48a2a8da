"""Registration, login and the current user."""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask.views import MethodView

from api import cookies, sessions
from api.auth import (
    CHALLENGE,
    INVALID,
    INVALID_CHALLENGE,
    MISSING,
    current_family,
    presented_token,
    revoke_current_token,
)
from api.context import current_user, db_connection, db_session, runtime_of
from api.errors import TAKEN, fail, fail_with
from api.pipeline.ratelimit import login_limit, register_limit
from api.seam import Blueprint, link
from core.passwords import Passwords
from db import queries, writes
from db.models import User
from db.queries import Principal
from schemas.users import (
    LoginUserRequest,
    LogoutQuery,
    NewUserRequest,
    RefreshTokenRequest,
    UpdateUserRequest,
    UserResponse,
)

USERNAME = "$response.body#/user/username"
USER_LINKS = {
    "GetProfile": link("GetProfileByUsername", username=USERNAME),
    "Follow": link("FollowUserByUsername", username=USERNAME),
    "GetCurrentUser": link("GetCurrentUser"),
    "UpdateCurrentUser": link("UpdateCurrentUser"),
}

blp = Blueprint(
    "User and Authentication", __name__, description="Registration, login, current user"
)


def _passwords() -> Passwords:
    return runtime_of(current_app).passwords


def _user_response(
    user: User | Principal, token: str, refresh_token: str | None = None
) -> dict[str, Any]:
    body = {
        "email": user.email,
        "token": token,
        "username": user.username,
        "bio": user.bio,
        "image": user.image,
        "email_notifications": user.email_notifications,
    }
    if refresh_token is not None:
        body["refresh_token"] = refresh_token
    return {"user": body}


def _session_response(user: User, tokens: sessions.Tokens) -> dict[str, Any]:
    """The user with a session's tokens: the refresh token in the body, or in cookie mode
    in the HttpOnly cookie only."""
    if cookies.enabled():
        cookies.deliver(tokens.refresh)
        return _user_response(user, tokens.access)
    return _user_response(user, tokens.access, tokens.refresh)


def _new_session(user: User) -> dict[str, Any]:
    """The user with the tokens of a new session, committed."""
    session = db_session()
    session.flush()  # a new user's id
    tokens = sessions.start(user.id)
    session.commit()
    return _session_response(user, tokens)


def _ensure_available(username: str | None, email: str | None, except_id: int = 0) -> None:
    """Name every taken field at once; the unique constraints still decide races."""
    taken = queries.taken(db_connection(), username, email, except_id)
    errors = {}
    if taken.username:
        errors["username"] = [TAKEN]
    if taken.email:
        errors["email"] = [TAKEN]
    if errors:
        fail_with(409, errors)


@blp.route("/users/login")
class Login(MethodView):
    decorators = [login_limit]

    @blp.cache_neutral
    @blp.public
    @blp.arguments(
        LoginUserRequest, example={"user": {"email": "jake@jake.jake", "password": "jakejake"}}
    )
    @blp.response(200, UserResponse)
    @blp.links(200, **USER_LINKS)
    @blp.errors(401, 429)
    @blp.doc(operationId="Login")
    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Existing user login

        Exchange email and password for the user and a new session: an access `token` and
        a `refreshToken`. An unknown email and a wrong password get the same answer, in
        comparable time.
        """
        creds = payload["user"]
        user = queries.user_by_email(db_session(), creds["email"])
        if not _passwords().verify(user.password_hash if user else None, creds["password"]):
            fail(401, "credentials", "invalid", CHALLENGE)
        assert user is not None
        return _new_session(user)


@blp.route("/users/token/refresh")
class RefreshToken(MethodView):
    @blp.cache_neutral
    @blp.public
    @blp.arguments(RefreshTokenRequest, example={"refreshToken": "jwt.refresh.token.here"})
    @blp.response(200, UserResponse)
    @blp.links(200, **USER_LINKS)
    @blp.errors(401, 403, 429)
    @blp.doc(operationId="RefreshToken")
    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Refresh the session

        Exchange a refresh token for a new `token` and a new `refreshToken`; the one
        presented is spent. Presenting a spent one again ends its whole session (every
        token of it) and is a 401, except within a few seconds of its exchange
        (`REFRESH_GRACE_SECONDS`, for two tabs refreshing at once), which gets the same
        new session again. In cookie mode the `conduit_refresh` cookie may carry the
        refresh token instead of the body, with the `X-CSRF-Protection` header (else 403).
        No refresh token at all is a 401 (`token`: "is missing").
        """
        raw = payload.get("refresh_token") or cookies.presented()
        if not raw:  # no credential at all: the body has none and no cookie came
            fail_with(401, MISSING, CHALLENGE)
        user, tokens = sessions.refresh(raw)
        return _session_response(user, tokens)


@blp.route("/users")
class Users(MethodView):
    decorators = [register_limit]

    @blp.cache_neutral  # a new user has no articles or comments yet
    @blp.public
    @blp.arguments(
        NewUserRequest,
        example={"user": {"username": "jake", "email": "jake@jake.jake", "password": "jakejake"}},
    )
    @blp.idempotent(token=("user", "token"))
    @blp.response(201, UserResponse)
    @blp.links(201, **USER_LINKS)
    @blp.errors(409, 429)
    @blp.doc(operationId="CreateUser")
    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Register a new user

        Create an account and return it with a new session (`token`, `refreshToken`). A
        taken username or email is a 409, keyed by the field (both when both are taken).
        """
        data = payload["user"]
        _ensure_available(data["username"], data["email"])
        user = writes.create_user(
            db_session(),
            username=data["username"],
            email=data["email"],
            password_hash=_passwords().hash(data["password"]),
        )
        return _new_session(user)


@blp.route("/user")
class CurrentUser(MethodView):
    @blp.auth_required
    @blp.response(200, UserResponse)
    @blp.doc(operationId="GetCurrentUser")
    def get(self) -> dict[str, Any]:
        """Get current user

        The user the token belongs to, with that same token (reads mint none).
        """
        return _user_response(current_user(), presented_token())

    @blp.auth_required
    @blp.arguments(UpdateUserRequest, example={"user": {"bio": "I like to skateboard"}})
    @blp.response(200, UserResponse)
    @blp.errors(409)
    @blp.doc(operationId="UpdateCurrentUser")
    def put(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Update current user

        Change any of email, username, password, bio and image, and whether notifications
        come by email too (`emailNotifications`, an extension). `null` or empty
        bio/image clear them (to `null`); a taken username or email is a 409. A new
        password ends every other session of the user; this one goes on, and the answer
        holds the token presented.
        """
        me = current_user()
        changes = payload["user"]
        _ensure_available(changes.get("username"), changes.get("email"), except_id=me.id)
        columns = {
            field: changes[field]
            for field in ("email", "username", "email_notifications")
            if field in changes
        }
        columns |= {field: changes[field] or None for field in ("bio", "image") if field in changes}
        if "password" in changes:
            columns["password_hash"] = _passwords().hash(changes["password"])
            sessions.end_all(me.id, keep=current_family())
        if columns:
            updated = writes.update_user(db_session(), me.id, columns)
            if updated is None:  # deleted since its token was checked: the token names nobody
                fail_with(401, INVALID, INVALID_CHALLENGE)
            me = updated
            db_session().commit()
        return _user_response(me, presented_token())


@blp.route("/users/logout")
class Logout(MethodView):
    @blp.cache_neutral
    @blp.auth_required
    @blp.arguments(LogoutQuery(), location="query")
    @blp.response(204)
    @blp.doc(operationId="Logout")
    def post(self, query: dict[str, Any]) -> None:
        """Log out

        End the presented token's session (beyond the RealWorld spec): its access and
        refresh tokens are refused from now on, by every worker and replica. With
        `all=true`, every session of the user ends (sign out everywhere).
        """
        revoke_current_token()
        if query["all"]:
            sessions.end_all(current_user().id)
        else:
            sessions.end(current_family())
        db_session().commit()
        if cookies.enabled():
            cookies.clear()
