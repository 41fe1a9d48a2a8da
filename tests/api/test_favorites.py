"""Favorites (operations CreateArticleFavorite, DeleteArticleFavorite)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import func, select

from db.models import favorites
from db.session import Database
from tests.factories import Account, body_of, create_article, errors_of, register


def favorite(client: FlaskClient, account: Account, slug: str) -> dict[str, Any]:
    response = client.post(f"/api/articles/{slug}/favorite", headers=account.headers)
    assert response.status_code == 200, response.json
    article: dict[str, Any] = body_of(response)["article"]
    return article


def unfavorite(client: FlaskClient, account: Account, slug: str) -> dict[str, Any]:
    response = client.delete(f"/api/articles/{slug}/favorite", headers=account.headers)
    assert response.status_code == 200, response.json
    article: dict[str, Any] = body_of(response)["article"]
    return article


def favorite_rows(db: Database) -> int:
    return db.session().scalar(select(func.count()).select_from(favorites)) or 0


def test_favorite_returns_the_article(client: FlaskClient) -> None:
    author, fan = register(client), register(client)
    created = create_article(client, author, tagList=["t"])
    article = favorite(client, fan, created["slug"])
    assert article["favorited"] is True
    assert article["favoritesCount"] == 1
    assert article["body"] == created["body"]
    assert article["tagList"] == ["t"]
    assert article["author"]["username"] == author.username
    # favoriting is not an edit
    assert article["updatedAt"] == created["updatedAt"]


def test_favorite_twice_counts_once(client: FlaskClient, db: Database) -> None:
    author, fan = register(client), register(client)
    slug = create_article(client, author)["slug"]
    favorite(client, fan, slug)
    again = favorite(client, fan, slug)
    assert again["favorited"] is True
    assert again["favoritesCount"] == 1
    assert favorite_rows(db) == 1


def test_favorites_count_exact_across_users(client: FlaskClient) -> None:
    author = register(client)
    fans = [register(client) for _ in range(4)]
    slug = create_article(client, author)["slug"]
    other = create_article(client, author)["slug"]
    for n, fan in enumerate(fans, start=1):
        assert favorite(client, fan, slug)["favoritesCount"] == n
    favorite(client, fans[0], other)
    favorite(client, author, slug)  # authors may favorite their own article

    assert body_of(client.get(f"/api/articles/{slug}"))["article"]["favoritesCount"] == 5
    assert body_of(client.get(f"/api/articles/{other}"))["article"]["favoritesCount"] == 1

    after = unfavorite(client, fans[1], slug)
    assert after["favorited"] is False
    assert after["favoritesCount"] == 4
    # another fan still sees their own favorite
    seen = body_of(client.get(f"/api/articles/{slug}", headers=fans[2].headers))["article"]
    assert seen["favorited"] is True and seen["favoritesCount"] == 4
    listed = {a["slug"]: a for a in body_of(client.get("/api/articles"))["articles"]}
    assert (listed[slug]["favoritesCount"], listed[other]["favoritesCount"]) == (4, 1)


def test_unfavorite_when_not_favorited_is_ok(client: FlaskClient, db: Database) -> None:
    author, fan, bystander = register(client), register(client), register(client)
    slug = create_article(client, author)["slug"]
    favorite(client, fan, slug)
    article = unfavorite(client, bystander, slug)
    assert article["favorited"] is False
    assert article["favoritesCount"] == 1  # someone else's favorite is untouched
    unfavorite(client, fan, slug)
    twice = unfavorite(client, fan, slug)
    assert twice["favorited"] is False and twice["favoritesCount"] == 0
    assert favorite_rows(db) == 0


def test_favorite_unknown_article_is_404(client: FlaskClient, db: Database) -> None:
    fan = register(client)
    for method in (client.post, client.delete):
        response = method("/api/articles/no-such-article/favorite", headers=fan.headers)
        assert response.status_code == 404
        assert errors_of(response) == {"article": ["not found"]}
    assert favorite_rows(db) == 0


def test_favorite_requires_token(client: FlaskClient, db: Database) -> None:
    author = register(client)
    slug = create_article(client, author)["slug"]
    for method in (client.post, client.delete):
        response = method(f"/api/articles/{slug}/favorite")
        assert response.status_code == 401
        assert errors_of(response) == {"token": ["is missing"]}
        assert response.headers["WWW-Authenticate"] == 'Token realm="conduit"'
    assert favorite_rows(db) == 0


def test_favorites_go_with_the_article(client: FlaskClient, db: Database) -> None:
    author, fan = register(client), register(client)
    slug = create_article(client, author, title="Loved")["slug"]
    favorite(client, fan, slug)
    client.delete(f"/api/articles/{slug}", headers=author.headers)
    assert favorite_rows(db) == 0
    assert body_of(client.get(f"/api/articles?favorited={fan.username}"))["articlesCount"] == 0
    # the slug reborn does not inherit the old favorites
    reborn = create_article(client, author, title="Loved")
    assert reborn["slug"] == slug
    assert reborn["favoritesCount"] == 0
