"""Articles: create, update, single and list responses, list query arguments."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields
from marshmallow_sqlalchemy import auto_field

from db.models import TAG_MAX, TITLE_MAX
from db.models import Article as ArticleModel
from schemas.base import ModelSchema, PartialUpdate, ResponseSchema, Schema
from schemas.fields import INT32_MAX, Integer, Line, List, Nested, Range, Text, Timestamp, length
from schemas.profiles import Profile

DESCRIPTION_MAX = 2000
BODY_MAX = 200_000
TAGS_MAX = 20
LIMIT_MAX = 100


def _tag_list() -> List:
    return List(
        Line(required=True, validate=length(TAG_MAX)),
        validate=length(TAGS_MAX, None),
        data_key="tagList",
        metadata={"example": ["dragons", "training"]},
    )


class NewArticle(Schema):
    title = Line(
        required=True, validate=length(TITLE_MAX), metadata={"example": "How to train your dragon"}
    )
    description = Text(
        required=True, validate=length(DESCRIPTION_MAX), metadata={"example": "Ever wonder how?"}
    )
    body = Text(
        required=True, validate=length(BODY_MAX), metadata={"example": "You have to believe"}
    )
    tag_list = _tag_list()


class NewArticleRequest(Schema):
    article = Nested(NewArticle, required=True)


class UpdateArticle(PartialUpdate):
    title = Line(validate=length(TITLE_MAX), metadata={"example": "Did you train your dragon?"})
    description = Text(visible=True, validate=length(DESCRIPTION_MAX))
    body = Text(visible=True, validate=length(BODY_MAX))
    tag_list = _tag_list()


class UpdateArticleRequest(Schema):
    article = Nested(UpdateArticle, required=True)


class _ArticleFields(ModelSchema):
    class Meta(ModelSchema.Meta):
        model = ArticleModel

    slug = auto_field(required=True, metadata={"example": "how-to-train-your-dragon"})
    title = auto_field(required=True, metadata={"example": "How to train your dragon"})
    description = auto_field(required=True, metadata={"example": "Ever wonder how?"})
    tag_list = fields.List(fields.String(), required=True, data_key="tagList")
    created_at = Timestamp(required=True, data_key="createdAt")
    updated_at = Timestamp(required=True, data_key="updatedAt")
    favorited = fields.Boolean(required=True)
    favorites_count = fields.Integer(required=True, data_key="favoritesCount")
    author = fields.Nested(Profile, required=True)


class Article(_ArticleFields):
    body = auto_field(required=True, metadata={"example": "It takes a Jacobian"})


class ArticlePreview(_ArticleFields):
    """An article in a list: everything but the body (RealWorld 1.1.0)."""


class SingleArticleResponse(ResponseSchema):
    article = fields.Nested(Article, required=True)


class MultipleArticlesResponse(ResponseSchema):
    articles = fields.List(fields.Nested(ArticlePreview), required=True)
    articles_count = fields.Integer(required=True, data_key="articlesCount")


class Page(Schema):
    """Upstream sets no maximum: a larger `limit` is served as LIMIT_MAX, not refused."""

    limit = Integer(
        load_default=20,
        validate=Range(min=1),
        metadata={
            "description": f"The number of items to return (at most {LIMIT_MAX} are served).",
        },
    )
    offset = Integer(
        load_default=0,
        validate=Range(min=0),
        metadata={
            "description": "The number of items to skip before starting to collect the result set."
        },
    )

    @ma.post_load
    def _clamp(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        # No page holds more than LIMIT_MAX; no table holds more than INT32_MAX rows to skip.
        return {
            **data,
            "limit": min(data["limit"], LIMIT_MAX),
            "offset": min(data["offset"], INT32_MAX),
        }


SEARCH_MAX = 200


class ArticlesQuery(Page):
    q = Line(
        validate=length(SEARCH_MAX),
        metadata={
            "description": "Search: articles matching these words or near them in meaning,"
            " best first (full-text search and the embedding model, by reciprocal rank"
            " fusion); combinable with the filters. Without it, newest first."
        },
    )
    tag = Line(validate=length(TAG_MAX), metadata={"description": "Filter by tag"})
    author = Line(validate=length(255), metadata={"description": "Filter by author (username)"})
    favorited = Line(
        validate=length(255), metadata={"description": "Filter by favorites of a user (username)"}
    )
