"""Users: registration, login, the current user and updates to it."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields
from marshmallow_sqlalchemy import auto_field

from db import usernames
from db.models import EMAIL_MAX, USERNAME_MAX
from db.models import User as UserModel
from schemas.base import ModelSchema, PartialUpdate, ResponseSchema, Schema
from schemas.fields import WHITESPACE, Email, FullMatch, Line, Nested, String, Text, length

PASSWORD_MIN = 8
PASSWORD_MAX = 256
IMAGE_MAX = 2048
# The host part excludes brackets: `http://[…` is not a URL most clients can parse.
IMAGE_PATTERN = (
    rf"^https?://[^{WHITESPACE}\x00-\x1f\x7f/?#\[\]]+(?:[/?#][^{WHITESPACE}\x00-\x1f\x7f]*)?$"
)
BIO_MAX = 5000
USERNAME_PATTERN = FullMatch(
    r"^\w[\w.-]*$", error="may only contain letters, digits, '_', '-' and '.'"
)


class Username(Line):
    """Stored and compared in Unicode NFKC (full-width letters are plain ones); a name may not
    mix scripts whose letters look alike. Uniqueness ignores case and look-alikes."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        return usernames.normalized(super()._deserialize(value, attr, data, **kwargs))


def _one_script(name: str) -> None:
    if usernames.mixes_scripts(name):
        raise ma.ValidationError("must not mix look-alike scripts (such as Latin and Cyrillic)")


def _username(required: bool) -> Username:
    return Username(
        required=required,
        validate=[length(USERNAME_MAX), USERNAME_PATTERN, _one_script],
        metadata={"example": "jake"},
    )


def _email(required: bool) -> Email:
    return Email(
        required=required, validate=length(EMAIL_MAX), metadata={"example": "jake@jake.jake"}
    )


def _password(required: bool) -> String:
    """NIST 800-63B: at least 8 characters, no composition rules; capped so hashing stays cheap."""
    return String(
        required=required,
        load_only=True,
        validate=[
            length(PASSWORD_MAX, PASSWORD_MIN),
            # Every other string field refuses NUL; C-string consumers would truncate at it.
            # (As a pattern, so the spec says so too.)
            FullMatch(r"^[^\x00]*$", error="must not contain NUL characters"),
        ],
        metadata={"format": "password", "example": "jakejake"},
    )


class LoginUser(Schema):
    email = _email(True)
    password = String(required=True, validate=length(PASSWORD_MAX), metadata={"format": "password"})


class LoginUserRequest(Schema):
    user = Nested(LoginUser, required=True)


class NewUser(Schema):
    username = _username(True)
    email = _email(True)
    password = _password(True)


class NewUserRequest(Schema):
    user = Nested(NewUser, required=True)


class UpdateUser(PartialUpdate):
    """Any subset of the fields; `""` or `null` bio/image clear them (stored as `null`)."""

    email = _email(False)
    username = _username(False)
    password = _password(False)
    bio = Text(allow_none=True, validate=length(BIO_MAX, 0))
    # An http(s) address without spaces; the rule is simple enough to state in the spec exactly.
    image = String(
        allow_none=True,
        validate=[length(IMAGE_MAX), FullMatch(IMAGE_PATTERN, error="must be an http(s) URL")],
        metadata={"example": "https://i.stack.imgur.com/xHWG8.jpg"},
    )

    email_notifications = fields.Boolean(
        data_key="emailNotifications",
        error_messages={"invalid": "must be a boolean"},
        metadata={"description": "Send my notifications by email too (when the server does)"},
    )

    @ma.pre_load
    def _clear_empty(self, data: Any, **_kwargs: Any) -> Any:
        # The official frontends send their whole settings form: an empty image clears it.
        if isinstance(data, dict) and data.get("image") == "":
            return {**data, "image": None}
        return data


class UpdateUserRequest(Schema):
    user = Nested(UpdateUser, required=True)


class User(ModelSchema):
    class Meta(ModelSchema.Meta):
        model = UserModel

    email = auto_field(required=True, metadata={"example": "jake@jake.jake"})
    token = fields.String(required=True, metadata={"example": "jwt.token.here"})
    refresh_token = fields.String(
        data_key="refreshToken",
        metadata={
            "example": "jwt.refresh.token.here",
            "description": "Beside a new session's `token` (login, registration, refresh):"
            " exchange it at `RefreshToken` for a new pair; each is good for one exchange",
        },
    )
    username = auto_field(required=True, metadata={"example": "jake"})
    bio = auto_field(required=True, metadata={"example": None})
    image = auto_field(required=True, metadata={"example": None})
    email_notifications = auto_field(
        data_key="emailNotifications",
        required=True,
        metadata={
            "example": True,
            "description": "Whether notifications also come by email (an extension; set it"
            " with `UpdateCurrentUser`)",
        },
    )


class RefreshTokenRequest(Schema):
    # Required, except in cookie mode (SESSION_COOKIE), where the cookie may carry it instead.
    refresh_token = String(
        data_key="refreshToken",
        validate=length(8192),
        metadata={
            "example": "jwt.refresh.token.here",
            "description": "The session's refresh token. Required unless the server runs in"
            " cookie mode and the `conduit_refresh` cookie holds it (then the"
            " `X-CSRF-Protection` header must be sent too)",
        },
    )


class LogoutQuery(Schema):
    all = fields.Boolean(
        load_default=False,
        metadata={"description": "Also end every other session of the user (sign out everywhere)"},
    )


class UserResponse(ResponseSchema):
    user = fields.Nested(User, required=True)
