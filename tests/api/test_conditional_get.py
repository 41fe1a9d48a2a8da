"""Conditional GET on article reads: ETag on 200, 304 without a body while it still holds."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.factories import Account, add_comment, body_of, create_article, register

READS = ["/api/articles", "/api/articles/{slug}", "/api/articles/{slug}/comments"]


@pytest.mark.parametrize("path", READS)
def test_etag_then_304_until_the_resource_changes(client: FlaskClient, path: str) -> None:
    author, fan = register(client), register(client)
    slug = create_article(client, author)["slug"]
    add_comment(client, author, slug)
    url = path.format(slug=slug)

    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag

    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag

    # a change the representation shows gives a new ETag, and the old one a full answer
    client.post(f"/api/articles/{slug}/favorite", headers=fan.headers)
    add_comment(client, fan, slug, "second")
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag


def test_feed_and_viewer_specific_etags(client: FlaskClient) -> None:
    author, fan = register(client), register(client)
    slug = create_article(client, author)["slug"]
    client.post(f"/api/profiles/{author.username}/follow", headers=fan.headers)
    client.post(f"/api/articles/{slug}/favorite", headers=fan.headers)

    feed = client.get("/api/articles/feed", headers=fan.headers)
    assert feed.status_code == 200
    assert (
        client.get(
            "/api/articles/feed", headers={**fan.headers, "If-None-Match": feed.headers["ETag"]}
        ).status_code
        == 304
    )
    # the fan sees favorited/following: another representation than the anonymous one
    anonymous = client.get(f"/api/articles/{slug}").headers["ETag"]
    assert client.get(f"/api/articles/{slug}", headers=fan.headers).headers["ETag"] != anonymous


def forged(account: Account) -> dict[str, str]:
    header_and_payload = account.token.rsplit(".", 1)[0]
    return {"Authorization": f"Token {header_and_payload}.{'A' * 43}"}


@pytest.mark.parametrize("path", READS)
def test_a_bad_token_gets_the_anonymous_etag(client: FlaskClient, path: str) -> None:
    """A refused token is served as anonymous: the same representation, so the same ETag."""
    author, fan = register(client), register(client)
    slug = create_article(client, author)["slug"]
    add_comment(client, author, slug)
    client.post(f"/api/profiles/{author.username}/follow", headers=fan.headers)
    client.post(f"/api/articles/{slug}/favorite", headers=fan.headers)
    url = path.format(slug=slug)
    anonymous = client.get(url).headers["ETag"]
    assert client.get(url, headers=fan.headers).headers["ETag"] != anonymous

    refused = client.get(url, headers=forged(fan))
    assert refused.status_code == 200
    assert refused.headers["ETag"] == anonymous
    cached = client.get(url, headers={**forged(fan), "If-None-Match": anonymous})
    assert cached.status_code == 304
    assert cached.data == b""
    assert cached.headers["WWW-Authenticate"] == 'Token realm="conduit", error="invalid_token"'


def test_a_stale_or_foreign_etag_gets_the_full_answer(client: FlaskClient) -> None:
    author = register(client)
    create_article(client, author)
    response = client.get("/api/articles", headers={"If-None-Match": '"not-the-etag"'})
    assert response.status_code == 200
    assert body_of(response)["articlesCount"] == 1
