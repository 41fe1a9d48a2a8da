"""Profiles: a user as other users see them."""

from __future__ import annotations

from marshmallow import fields
from marshmallow_sqlalchemy import auto_field

from db.models import User
from schemas.base import ModelSchema, ResponseSchema


class Profile(ModelSchema):
    class Meta(ModelSchema.Meta):
        model = User

    username = auto_field(required=True, metadata={"example": "jake"})
    bio = auto_field(required=True, metadata={"example": "I work at statefarm"})
    image = auto_field(required=True, metadata={"example": "https://i.stack.imgur.com/xHWG8.jpg"})
    following = fields.Boolean(required=True)


class ProfileResponse(ResponseSchema):
    profile = fields.Nested(Profile, required=True)
