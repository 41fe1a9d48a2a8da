"""Comments (operations GetArticleComments, CreateArticleComment, DeleteArticleComment)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from db.models import Comment
from db.session import Database
from tests.factories import add_comment, body_of, create_article, errors_of, register


def comment_count(db: Database) -> int:
    return db.session().scalar(select(func.count()).select_from(Comment)) or 0


def comments_of(
    client: FlaskClient, slug: str, headers: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    response = client.get(f"/api/articles/{slug}/comments", headers=headers or {})
    assert response.status_code == 200, response.json
    comments: list[dict[str, Any]] = body_of(response)["comments"]
    return comments


def test_create_comment(client: FlaskClient) -> None:
    author, reader = register(client), register(client, "reader")
    slug = create_article(client, author)["slug"]
    response = client.post(
        f"/api/articles/{slug}/comments",
        headers=reader.headers,
        json={"comment": {"body": "His name was my name too."}},
    )
    assert response.status_code == 201, response.json
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert set(body_of(response)) == {"comment"}
    comment = body_of(response)["comment"]
    assert set(comment) == {"id", "body", "createdAt", "updatedAt", "author"}
    assert isinstance(comment["id"], int)
    assert comment["body"] == "His name was my name too."
    assert comment["author"] == {
        "username": "reader",
        "bio": None,
        "image": None,
        "following": False,
    }
    assert comment["createdAt"].endswith("Z")
    assert comment["createdAt"] == comment["updatedAt"]
    datetime.fromisoformat(comment["createdAt"])
    assert comments_of(client, slug) == [comment]


def test_create_comment_shows_the_commenters_profile(client: FlaskClient) -> None:
    author, reader = register(client), register(client)
    slug = create_article(client, author)["slug"]
    client.put(
        "/api/user",
        headers=author.headers,
        json={"user": {"bio": "I write", "image": "https://img.example/a.png"}},
    )
    client.post(f"/api/profiles/{author.username}/follow", headers=reader.headers)
    add_comment(client, reader, slug, "from a reader")
    # the author comments on their own article; the reader follows them
    response = client.post(
        f"/api/articles/{slug}/comments",
        headers=author.headers,
        json={"comment": {"body": "thanks"}},
    )
    assert response.status_code == 201, response.json
    assert body_of(response)["comment"]["body"] == "thanks"
    assert body_of(response)["comment"]["author"] == {
        "username": author.username,
        "bio": "I write",
        "image": "https://img.example/a.png",
        "following": False,
    }
    seen = comments_of(client, slug, reader.headers)[0]
    assert seen["id"] == body_of(response)["comment"]["id"]
    assert seen["author"]["following"] is True


def test_create_comment_ignores_read_only_fields(client: FlaskClient, db: Database) -> None:
    author, reader = register(client), register(client)
    slug = create_article(client, author)["slug"]
    earlier = add_comment(client, author, slug, "earlier")
    forged = {
        "body": "mine",
        "id": earlier["id"],
        "author": {"username": author.username, "bio": None, "image": None, "following": True},
        "createdAt": "2000-01-01T00:00:00.000Z",
        "updatedAt": "2000-01-01T00:00:00.000Z",
    }
    response = client.post(
        f"/api/articles/{slug}/comments", headers=reader.headers, json={"comment": forged}
    )
    assert response.status_code == 201, response.json
    comment = body_of(response)["comment"]
    assert comment["id"] != earlier["id"]
    assert comment["body"] == "mine"
    assert comment["author"]["username"] == reader.username
    assert comment["createdAt"] == comment["updatedAt"]
    assert not comment["createdAt"].startswith("2000-")
    assert comments_of(client, slug) == [comment, earlier]
    assert comment_count(db) == 2


def test_comment_body_keeps_newlines(client: FlaskClient) -> None:
    author = register(client)
    slug = create_article(client, author)["slug"]
    assert add_comment(client, author, slug, "line one\n\tline two")["body"] == (
        "line one\n\tline two"
    )


def test_comment_on_unknown_article_is_404(client: FlaskClient, db: Database) -> None:
    reader = register(client)
    response = client.post(
        "/api/articles/no-such-article/comments",
        headers=reader.headers,
        json={"comment": {"body": "hello"}},
    )
    assert response.status_code == 404
    assert errors_of(response) == {"article": ["not found"]}
    assert comment_count(db) == 0


def test_list_comments_of_unknown_article_is_404(client: FlaskClient) -> None:
    response = client.get("/api/articles/no-such-article/comments")
    assert response.status_code == 404
    assert errors_of(response) == {"article": ["not found"]}


def test_comment_validation(client: FlaskClient, db: Database) -> None:
    author = register(client)
    slug = create_article(client, author)["slug"]
    blank = {"body": ["can't be blank"]}
    cases: list[tuple[Any, dict[str, list[str]]]] = [
        ({"comment": {"body": ""}}, blank),
        ({"comment": {"body": "   \n "}}, blank),
        ({"comment": {"body": None}}, blank),
        ({"comment": {"body": 7}}, {"body": ["must be a string"]}),
        ({"comment": {"body": "nul\u0000"}}, {"body": ["must not contain control characters"]}),
        (
            {"comment": {"body": "x" * 20_001}},
            {"body": ["is too long (maximum is 20000 characters)"]},
        ),
        ({"comment": {}}, blank),
        # a read-only field does not make up for the missing body
        ({"comment": {"id": 5, "author": "someone"}}, blank),
        ({}, {"comment": ["can't be blank"]}),
        ({"comment": None}, {"comment": ["can't be blank"]}),
        ({"comment": "text"}, {"comment": ["must be an object"]}),
        ([{"body": "x"}], {"request": ["must be an object"]}),
    ]
    for payload, expected in cases:
        response = client.post(
            f"/api/articles/{slug}/comments", headers=author.headers, json=payload
        )
        assert response.status_code == 422, (payload, response.json)
        assert errors_of(response) == expected, payload
    assert comment_count(db) == 0
    assert comments_of(client, slug) == []


def test_list_comments_newest_first_with_viewer_following(client: FlaskClient) -> None:
    author, alice, bob = register(client), register(client), register(client)
    slug = create_article(client, author)["slug"]
    other_slug = create_article(client, author)["slug"]
    first = add_comment(client, alice, slug, "first")
    second = add_comment(client, bob, slug, "second")
    third = add_comment(client, alice, slug, "third")
    add_comment(client, bob, other_slug, "elsewhere")

    anonymous = comments_of(client, slug)
    assert [c["id"] for c in anonymous] == [third["id"], second["id"], first["id"]]
    assert all(c["author"]["following"] is False for c in anonymous)

    client.post(f"/api/profiles/{alice.username}/follow", headers=bob.headers)
    seen_by_bob = comments_of(client, slug, bob.headers)
    assert [(c["body"], c["author"]["following"]) for c in seen_by_bob] == [
        ("third", True),
        ("second", False),
        ("first", True),
    ]
    # the follow does not leak to the anonymous view
    assert all(c["author"]["following"] is False for c in comments_of(client, slug))


def test_list_comments_with_bad_token_is_served_anonymously(client: FlaskClient) -> None:
    author, fan = register(client), register(client)
    slug = create_article(client, author)["slug"]
    add_comment(client, author, slug)
    client.post(f"/api/profiles/{author.username}/follow", headers=fan.headers)
    assert comments_of(client, slug, fan.headers)[0]["author"]["following"] is True
    forged = {"Authorization": f"Token {fan.token.rsplit('.', 1)[0]}.{'A' * 43}"}
    for headers in ({"Authorization": "Token garbage"}, forged):
        response = client.get(f"/api/articles/{slug}/comments", headers=headers)
        assert response.status_code == 200, response.json
        assert response.json == {"comments": comments_of(client, slug)}
        assert body_of(response)["comments"][0]["author"]["following"] is False
        assert response.headers["WWW-Authenticate"] == (
            'Token realm="conduit", error="invalid_token"'
        )


def test_delete_own_comment(client: FlaskClient) -> None:
    author, reader = register(client), register(client)
    slug = create_article(client, author)["slug"]
    keep = add_comment(client, reader, slug, "keep")
    gone = add_comment(client, reader, slug, "gone")
    response = client.delete(f"/api/articles/{slug}/comments/{gone['id']}", headers=reader.headers)
    assert response.status_code == 204
    assert response.data == b""
    assert "Content-Type" not in response.headers
    assert [c["id"] for c in comments_of(client, slug)] == [keep["id"]]
    again = client.delete(f"/api/articles/{slug}/comments/{gone['id']}", headers=reader.headers)
    assert again.status_code == 404
    assert errors_of(again) == {"comment": ["not found"]}


def test_delete_someone_elses_comment_is_403(client: FlaskClient) -> None:
    author, reader = register(client), register(client)
    slug = create_article(client, author)["slug"]
    comment = add_comment(client, reader, slug)
    # not even the article's author may delete a reader's comment
    for intruder in (author, register(client)):
        response = client.delete(
            f"/api/articles/{slug}/comments/{comment['id']}", headers=intruder.headers
        )
        assert response.status_code == 403
        assert errors_of(response) == {"comment": ["forbidden"]}
    assert comments_of(client, slug) == [comment]


def test_delete_unknown_comment_is_404(client: FlaskClient) -> None:
    author = register(client)
    slug = create_article(client, author)["slug"]
    comment = add_comment(client, author, slug)
    response = client.delete(
        f"/api/articles/{slug}/comments/{comment['id'] + 1000}", headers=author.headers
    )
    assert response.status_code == 404
    assert errors_of(response) == {"comment": ["not found"]}
    unknown_article = client.delete(
        f"/api/articles/nope/comments/{comment['id']}", headers=author.headers
    )
    assert unknown_article.status_code == 404
    assert errors_of(unknown_article) == {"article": ["not found"]}
    assert comments_of(client, slug) == [comment]


def test_delete_comment_through_another_article_is_404(client: FlaskClient) -> None:
    author = register(client)
    slug = create_article(client, author)["slug"]
    other_slug = create_article(client, author)["slug"]
    comment = add_comment(client, author, slug)
    response = client.delete(
        f"/api/articles/{other_slug}/comments/{comment['id']}", headers=author.headers
    )
    assert response.status_code == 404
    assert errors_of(response) == {"comment": ["not found"]}
    assert comments_of(client, slug) == [comment]


def test_comment_ids_out_of_range_are_404_not_500(client: FlaskClient) -> None:
    author = register(client)
    slug = create_article(client, author)["slug"]
    add_comment(client, author, slug)
    for bad_id in ("2147483648", "9223372036854775808", "99999999999999999999999", "0", "-1"):
        response = client.delete(f"/api/articles/{slug}/comments/{bad_id}", headers=author.headers)
        assert response.status_code == 404, (bad_id, response.json)
        # no comment id can be outside 1..2**31-1, so no route matches such a path
        assert errors_of(response) == {"path": ["not found"]}, bad_id
    largest = client.delete(f"/api/articles/{slug}/comments/2147483647", headers=author.headers)
    assert largest.status_code == 404
    assert errors_of(largest) == {"comment": ["not found"]}
    assert len(comments_of(client, slug)) == 1


def test_comments_deleted_with_their_article(client: FlaskClient, db: Database) -> None:
    author, reader = register(client), register(client)
    slug = create_article(client, author, title="Doomed")["slug"]
    survivor = create_article(client, author)["slug"]
    add_comment(client, reader, slug)
    add_comment(client, author, slug)
    kept = add_comment(client, reader, survivor)
    assert comment_count(db) == 3
    assert client.delete(f"/api/articles/{slug}", headers=author.headers).status_code == 204
    assert comment_count(db) == 1
    assert client.get(f"/api/articles/{slug}/comments").status_code == 404
    # a new article under the same slug starts with no comments
    assert create_article(client, author, title="Doomed")["slug"] == slug
    assert comments_of(client, slug) == []
    assert comments_of(client, survivor) == [kept]
