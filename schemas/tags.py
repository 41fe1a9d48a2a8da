"""Tags."""

from __future__ import annotations

from marshmallow import fields

from schemas.base import Schema


class TagsResponse(Schema):
    tags = fields.List(
        fields.String(), required=True, metadata={"example": ["dragons", "training"]}
    )
