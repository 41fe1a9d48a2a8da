"""The one error shape of RealWorld 2.0: messages keyed by what is at fault."""

from __future__ import annotations

from marshmallow import fields

from schemas.base import ResponseSchema


class GenericErrorModel(ResponseSchema):
    """`{"errors": {"<what is at fault>": ["message", ...]}}`, for every 4xx and 5xx."""

    errors = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String()),
        required=True,
        metadata={"example": {"title": ["can't be blank"]}},
    )
