"""The generated dump functions say exactly what marshmallow says, for every response schema."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import marshmallow as ma
import pytest

from db.queries import ArticleView, CommentView, ProfileView
from schemas import articles, comments, profiles, tags, users
from schemas.fastdump import compile_dumper

RESPONSES: list[type[ma.Schema]] = [
    articles.SingleArticleResponse,
    articles.MultipleArticlesResponse,
    comments.SingleCommentResponse,
    comments.MultipleCommentsResponse,
    profiles.ProfileResponse,
    users.UserResponse,
    tags.TagsResponse,
]

JAKE = ProfileView("jake", "I work at statefarm", "https://x.io/a.png", True)
WHEN = [
    datetime(2016, 2, 18, 3, 22, 56, 637000, tzinfo=UTC),
    datetime(2016, 2, 18, 3, 22, 56),  # naive, as SQLite returns it: taken as UTC
    datetime(2016, 2, 18, 5, 22, 56, 999999, tzinfo=timezone(timedelta(hours=2))),
]


def article(when: datetime, body: str | None = "It takes a Jacobian") -> ArticleView:
    return ArticleView(
        id=1,
        slug="how-to-train-your-dragon",
        title="How to train your dragon",
        description="Ever wonder how?",
        body=body,
        tag_list=["dragons", "training"],
        created_at=when,
        updated_at=when,
        favorited=False,
        favorites_count=3,
        author=JAKE,
    )


@pytest.mark.parametrize("schema", RESPONSES, ids=lambda s: s.__name__)
def test_every_response_schema_compiles_and_matches_its_sample(schema: type[ma.Schema]) -> None:
    assert compile_dumper(schema()) is not None


@pytest.mark.parametrize("when", WHEN)
def test_generated_dump_equals_marshmallow_on_real_objects(when: datetime) -> None:
    cases = [
        (articles.SingleArticleResponse(), {"article": article(when)}),
        (
            articles.MultipleArticlesResponse(),
            {"articles": [article(when, None), article(when, None)], "articles_count": 7},
        ),
        (articles.MultipleArticlesResponse(), {"articles": [], "articles_count": 0}),
        (comments.SingleCommentResponse(), {"comment": CommentView(4, "Nice", when, when, JAKE)}),
        (profiles.ProfileResponse(), {"profile": JAKE}),
        (
            users.UserResponse(),
            {
                "user": {
                    "email": "a@b.io",
                    "token": "t.o.k",
                    "username": "a",
                    "bio": "",
                    "image": "",
                    "email_notifications": False,
                }
            },
        ),
        (tags.TagsResponse(), {"tags": ["a", "b"]}),
    ]
    for schema, data in cases:
        generated = schema.dump(data)
        assert generated == ma.Schema.dump(schema, data)
    assert articles.Article().dump(article(when))["createdAt"].endswith("Z")


def test_timestamps_are_utc_with_milliseconds() -> None:
    dumped = articles.SingleArticleResponse().dump({"article": article(WHEN[2])})
    assert dumped["article"]["createdAt"] == "2016-02-18T03:22:56.999Z"
