"""Articles: create, update, single and list responses, list query arguments."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from marshmallow import fields, validate
from marshmallow_sqlalchemy import SQLAlchemySchema, auto_field

from db.models import TAG_MAX, TITLE_MAX
from db.models import Article as ArticleModel
from schemas.base import INT32_MAX, Line, Schema, Text, Timestamp, length
from schemas.profiles import Profile

DESCRIPTION_MAX = 2000
BODY_MAX = 200_000
TAGS_MAX = 20
LIMIT_MAX = 100


def _tag_list() -> fields.List[Any]:
    return fields.List(
        Line(required=True, validate=length(TAG_MAX)),
        validate=validate.Length(max=TAGS_MAX),
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
    article = fields.Nested(NewArticle, required=True)


class UpdateArticle(Schema):
    OPENAPI_EXTRA = {"minProperties": 1}

    title = Line(validate=length(TITLE_MAX), metadata={"example": "Did you train your dragon?"})
    description = Text(validate=length(DESCRIPTION_MAX))
    body = Text(validate=length(BODY_MAX))
    tag_list = _tag_list()

    @ma.validates_schema
    def _not_empty(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("at least one field is required")


class UpdateArticleRequest(Schema):
    article = fields.Nested(UpdateArticle, required=True)


class _ArticleFields(SQLAlchemySchema[Any]):
    class Meta:
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


class SingleArticleResponse(Schema):
    article = fields.Nested(Article, required=True)


class MultipleArticlesResponse(Schema):
    articles = fields.List(fields.Nested(ArticlePreview), required=True)
    articles_count = fields.Integer(required=True, data_key="articlesCount")


class Page(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE  # tolerate cache-busters and the like in query strings

    limit = fields.Integer(
        load_default=20,
        validate=validate.Range(min=1, max=LIMIT_MAX),
        metadata={"description": "The number of items to return."},
    )
    offset = fields.Integer(
        load_default=0,
        validate=validate.Range(min=0, max=INT32_MAX),
        metadata={
            "description": "The number of items to skip before starting to collect the result set."
        },
    )


class ArticlesQuery(Page):
    tag = Line(validate=length(TAG_MAX), metadata={"description": "Filter by tag"})
    author = Line(validate=length(255), metadata={"description": "Filter by author (username)"})
    favorited = Line(
        validate=length(255), metadata={"description": "Filter by favorites of a user (username)"}
    )
