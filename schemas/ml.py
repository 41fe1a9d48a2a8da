"""What the embedding model answers: tag suggestions, and the model that made them."""

from __future__ import annotations

from marshmallow import fields

from schemas.base import ResponseSchema, Schema
from schemas.fields import Integer, Range

RELATED_MAX = 20


class ModelInfo(ResponseSchema):
    name = fields.String(required=True, metadata={"example": "all-MiniLM-L6-v2"})
    version = fields.String(
        required=True, metadata={"description": "A hash of the weights", "example": "3c1a8e2f0b7d"}
    )


class Suggestion(ResponseSchema):
    tag = fields.String(required=True, metadata={"example": "dragons"})
    score = fields.Float(required=True, metadata={"example": 0.83, "minimum": 0, "maximum": 1})


class TagSuggestionsResponse(ResponseSchema):
    suggestions = fields.List(fields.Nested(Suggestion), required=True)
    model = fields.Nested(ModelInfo, required=True)


class RelatedQuery(Schema):
    """Like a page's `limit`: a larger value is served as RELATED_MAX, not refused."""

    limit = Integer(
        load_default=5,
        validate=Range(min=1),
        metadata={"description": f"How many related articles (at most {RELATED_MAX} are served)."},
    )
