"""The one error shape of the RealWorld spec."""

from __future__ import annotations

from marshmallow import fields

from schemas.base import Schema


class GenericErrorBody(Schema):
    body = fields.List(fields.String(), required=True, metadata={"example": ["can't be empty"]})


class GenericErrorModel(Schema):
    """`{"errors": {"body": [...]}}`, for every 4xx and 5xx."""

    errors = fields.Nested(GenericErrorBody, required=True)
