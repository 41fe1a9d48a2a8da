"""Tags."""

from __future__ import annotations

from marshmallow import fields

from schemas.base import ResponseSchema


class TagsResponse(ResponseSchema):
    tags = fields.List(
        fields.String(), required=True, metadata={"example": ["dragons", "training"]}
    )
