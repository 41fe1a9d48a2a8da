"""Comments on articles."""

from __future__ import annotations

from marshmallow import fields
from marshmallow_sqlalchemy import auto_field

from db.models import Comment as CommentModel
from schemas.base import ModelSchema, ResponseSchema, Schema
from schemas.fields import Nested, Text, Timestamp, length
from schemas.profiles import Profile

COMMENT_MAX = 20_000


class NewComment(Schema):
    body = Text(
        required=True,
        validate=length(COMMENT_MAX),
        metadata={"example": "His name was my name too."},
    )


class NewCommentRequest(Schema):
    comment = Nested(NewComment, required=True)


class Comment(ModelSchema):
    class Meta(ModelSchema.Meta):
        model = CommentModel

    id = auto_field(required=True, metadata={"example": 1})
    created_at = Timestamp(required=True, data_key="createdAt")
    updated_at = Timestamp(required=True, data_key="updatedAt")
    body = auto_field(required=True, metadata={"example": "It takes a Jacobian"})
    author = fields.Nested(Profile, required=True)


class SingleCommentResponse(ResponseSchema):
    comment = fields.Nested(Comment, required=True)


class MultipleCommentsResponse(ResponseSchema):
    comments = fields.List(fields.Nested(Comment), required=True)
