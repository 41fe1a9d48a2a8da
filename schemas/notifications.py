"""Notifications: what a user is told of follows, comments, favorites and new articles."""

from __future__ import annotations

from marshmallow import fields

from schemas.articles import Page
from schemas.base import ResponseSchema, Schema
from schemas.fields import Integer, Range, Timestamp
from schemas.profiles import Profile

TYPES = ("follow", "comment", "favorite", "article")
ID_MAX = 2**63 - 1  # the id column is a bigint


class ArticleSummary(ResponseSchema):
    slug = fields.String(required=True, metadata={"example": "how-to-train-your-dragon"})
    title = fields.String(required=True, metadata={"example": "How to train your dragon"})


class Notification(ResponseSchema):
    id = fields.Integer(required=True, metadata={"example": 42})
    type = fields.String(required=True, metadata={"enum": list(TYPES), "example": "follow"})
    read = fields.Boolean(required=True)
    created_at = Timestamp(required=True, data_key="createdAt")
    actor = fields.Nested(Profile, required=True, metadata={"description": "Who did it"})
    article = fields.Nested(
        ArticleSummary,
        required=True,
        allow_none=True,
        metadata={"description": "The article concerned; null for a follow"},
    )


class MultipleNotificationsResponse(ResponseSchema):
    notifications = fields.List(fields.Nested(Notification), required=True)
    notifications_count = fields.Integer(required=True, data_key="notificationsCount")
    unread_count = fields.Integer(required=True, data_key="unreadCount")


class NotificationsQuery(Page):
    """`limit` and `offset` as for articles, clamped the same way."""


class MarkRead(Schema):
    up_to = Integer(
        data_key="upTo",
        strict=True,  # an id: 1.5 or "5" is a mistake, not a number to round (5.0 is 5)
        validate=Range(min=0, max=ID_MAX),
        metadata={
            "description": "Mark read the notifications with ids up to this one (those you"
            " have seen); all of them when absent",
            "example": 42,
        },
    )


class UnreadCountResponse(ResponseSchema):
    unread_count = fields.Integer(required=True, data_key="unreadCount")
