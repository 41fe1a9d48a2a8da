"""A whole user journey through the generated Python SDK (conduit_client) against gunicorn.

Every call goes through `sync_detailed`, so each step checks the status and gets the parsed,
typed model: the documented success model, or `GenericErrorModel` for 401/403/404/409/422, whose
RealWorld 2.0 `errors` map each key (a field's wire name, `token`, `article`, ...) to messages.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from http import HTTPStatus
from typing import Any, TypeVar

import httpx
from conduit_client import AuthenticatedClient, Client
from conduit_client.api.articles import (
    create_article,
    delete_article,
    get_article,
    get_articles,
    get_articles_feed,
)
from conduit_client.api.comments import (
    create_article_comment,
    delete_article_comment,
    get_article_comments,
)
from conduit_client.api.favorites import create_article_favorite, delete_article_favorite
from conduit_client.api.operations import get_readiness
from conduit_client.api.profile import (
    follow_user_by_username,
    get_profile_by_username,
    unfollow_user_by_username,
)
from conduit_client.api.tags import get_tags
from conduit_client.api.user_and_authentication import (
    create_user,
    get_current_user,
    login,
    logout,
    update_current_user,
)
from conduit_client.models import (
    GenericErrorModel,
    LoginUser,
    LoginUserRequest,
    MultipleArticlesResponse,
    MultipleCommentsResponse,
    NewArticle,
    NewArticleRequest,
    NewComment,
    NewCommentRequest,
    NewUser,
    NewUserRequest,
    ProfileResponse,
    Readiness,
    SingleArticleResponse,
    SingleCommentResponse,
    TagsResponse,
    UpdateUser,
    UpdateUserRequest,
    User,
    UserResponse,
)
from conduit_client.refreshing import Session, refreshing_client
from conduit_client.types import Response

M = TypeVar("M")
RUN = uuid.uuid4().hex[:8]


def expect(response: Response[Any], status: HTTPStatus, model: type[M]) -> M:
    """The parsed body, after checking the status and that the SDK parsed it as `model`."""
    assert response.status_code == status, (response.status_code, response.content)
    assert isinstance(response.parsed, model), response.parsed
    return response.parsed


def error(response: Response[Any], status: HTTPStatus) -> dict[str, list[str]]:
    """The typed RealWorld 2.0 error body as `{key: [message, ...]}`, read by key."""
    errors = expect(response, status, GenericErrorModel).errors
    # The SDK keeps the keys as additional properties; the raw body must say the same.
    assert errors.additional_properties == response_json(response)["errors"], response.content
    assert errors.additional_keys, response.content
    return errors.additional_properties


def response_json(response: Response[Any]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(response.content)
    return body


def signed_in(api_url: str, token: str) -> AuthenticatedClient:
    return AuthenticatedClient(
        base_url=api_url, token=token, prefix="Token", raise_on_unexpected_status=True
    )


def register(anonymous: Client, name: str) -> User:
    new = NewUser(
        username=f"{name}_{RUN}", email=f"{name}_{RUN}@example.com", password=f"{name}-pw-1"
    )
    response = create_user.sync_detailed(client=anonymous, body=NewUserRequest(user=new))
    user = expect(response, HTTPStatus.CREATED, UserResponse).user
    # 2.0: a profile never filled in has null bio and image (the SDK gives None).
    assert (user.username, user.bio, user.image) == (new.username, None, None)
    return user


def test_journey(api_url: str) -> None:
    with Client(base_url=api_url, raise_on_unexpected_status=True) as anonymous:
        ready = get_readiness.sync_detailed(client=anonymous)
        assert expect(ready, HTTPStatus.OK, Readiness).status == "ready"
        author_signup = register(anonymous, "py_author")
        reader_signup = register(anonymous, "py_reader")
        credentials = LoginUser(email=author_signup.email, password="py_author-pw-1")
        response = login.sync_detailed(client=anonymous, body=LoginUserRequest(user=credentials))
        token = expect(response, HTTPStatus.OK, UserResponse).user.token
        wrong = LoginUser(email=author_signup.email, password="not-the-password")
        response = login.sync_detailed(client=anonymous, body=LoginUserRequest(user=wrong))
        assert error(response, HTTPStatus.UNAUTHORIZED) == {"credentials": ["invalid"]}

        invalid = error(
            create_user.sync_detailed(
                client=anonymous,
                body=NewUserRequest(user=NewUser(username="x", email="not-an-email", password="s")),
            ),
            HTTPStatus.UNPROCESSABLE_ENTITY,
        )
        assert invalid == {
            "email": ["is invalid"],
            "password": ["is too short (minimum is 8 characters)"],
        }
        print("422:", invalid)
        taken_names(anonymous, author_signup)

        with signed_in(api_url, "not-a-jwt") as forged:
            response = get_current_user.sync_detailed(client=forged)
            forged_errors = error(response, HTTPStatus.UNAUTHORIZED)
            assert forged_errors == {"token": ["is invalid"]}
            print("401:", forged_errors)

        with signed_in(api_url, token) as author, signed_in(api_url, reader_signup.token) as reader:
            author_journey(author, reader, author_signup.username, reader_signup.username)

        # The deleted article's tag is no longer in use (the anonymous client reads tags).
        tags = expect(get_tags.sync_detailed(client=anonymous), HTTPStatus.OK, TagsResponse).tags
        assert f"py-{RUN}" not in tags

    # Logging out revokes that token only.
    with signed_in(api_url, token) as author:
        assert logout.sync_detailed(client=author).status_code == HTTPStatus.NO_CONTENT
        revoked = error(get_current_user.sync_detailed(client=author), HTTPStatus.UNAUTHORIZED)
        assert revoked == {"token": ["is invalid"]}
    with signed_in(api_url, reader_signup.token) as reader:
        assert expect(get_current_user.sync_detailed(client=reader), HTTPStatus.OK, UserResponse)


def taken_names(anonymous: Client, existing: User) -> None:
    """Registering a taken username and/or email is a 409 naming each taken field."""

    def again(username: str, email: str) -> Response[Any]:
        user = NewUser(username=username, email=email, password="another-pw-1")
        return create_user.sync_detailed(client=anonymous, body=NewUserRequest(user=user))

    # What a client writes: the typed errors object indexed by the field's wire name.
    same_name = again(existing.username, f"other_{RUN}@example.com")
    errors = expect(same_name, HTTPStatus.CONFLICT, GenericErrorModel).errors
    assert errors["username"] == ["has already been taken"]
    assert "email" not in errors
    assert error(same_name, HTTPStatus.CONFLICT) == {"username": ["has already been taken"]}
    print("409:", errors.additional_properties)
    same_email = again(f"other_{RUN}", existing.email)
    assert error(same_email, HTTPStatus.CONFLICT) == {"email": ["has already been taken"]}
    assert error(again(existing.username, existing.email), HTTPStatus.CONFLICT) == {
        "username": ["has already been taken"],
        "email": ["has already been taken"],
    }


def author_journey(
    author: AuthenticatedClient, reader: AuthenticatedClient, author_name: str, reader_name: str
) -> None:
    # The reader fills in their profile, then follows the author.
    change = UpdateUser(bio="I read everything twice", image="https://example.com/r.png")
    updated = update_current_user.sync_detailed(client=reader, body=UpdateUserRequest(user=change))
    assert expect(updated, HTTPStatus.OK, UserResponse).user.bio == "I read everything twice"
    me = expect(get_current_user.sync_detailed(client=reader), HTTPStatus.OK, UserResponse).user
    assert me.image == "https://example.com/r.png"
    # A taken username is a 409 on PUT /user too, read by key.
    clash = UpdateUserRequest(user=UpdateUser(username=author_name))
    response = update_current_user.sync_detailed(client=reader, body=clash)
    assert error(response, HTTPStatus.CONFLICT) == {"username": ["has already been taken"]}
    followed = follow_user_by_username.sync_detailed(author_name, client=reader)
    assert expect(followed, HTTPStatus.OK, ProfileResponse).profile.following is True

    # The author writes an article with tags: found by tag, by author, and in the reader's feed.
    tag = f"py-{RUN}"
    new = NewArticle(
        title=f"Typed httpx {RUN}", description="SDK", body="Hi.", tag_list=[tag, "sdk"]
    )
    created = create_article.sync_detailed(client=author, body=NewArticleRequest(article=new))
    article = expect(created, HTTPStatus.CREATED, SingleArticleResponse).article
    assert article.tag_list == sorted([tag, "sdk"])
    slug = article.slug

    by_tag = expect(
        get_articles.sync_detailed(client=reader, tag=tag), HTTPStatus.OK, MultipleArticlesResponse
    )
    assert [a.slug for a in by_tag.articles] == [slug]
    by_author = expect(
        get_articles.sync_detailed(client=reader, author=author_name),
        HTTPStatus.OK,
        MultipleArticlesResponse,
    )
    assert by_author.articles_count == 1
    assert by_author.articles[0].author.following is True
    feed = get_articles_feed.sync_detailed(client=reader, limit=10)
    assert slug in [a.slug for a in expect(feed, HTTPStatus.OK, MultipleArticlesResponse).articles]

    # Favorite, comment, list, delete the comment, unfavorite.
    favorite = expect(
        create_article_favorite.sync_detailed(slug, client=reader),
        HTTPStatus.OK,
        SingleArticleResponse,
    ).article
    assert (favorite.favorited, favorite.favorites_count) == (True, 1)
    note = NewCommentRequest(comment=NewComment(body="Typed all the way down."))
    commented = create_article_comment.sync_detailed(slug, client=reader, body=note)
    comment = expect(commented, HTTPStatus.CREATED, SingleCommentResponse).comment
    assert comment.author.username == reader_name
    comments = get_article_comments.sync_detailed(slug, client=author)
    ids = [c.id for c in expect(comments, HTTPStatus.OK, MultipleCommentsResponse).comments]
    assert ids == [comment.id]

    # Error paths, each a parsed GenericErrorModel: 403, 404, 422 (401, 409, 422: test_journey).
    forbidden = error(delete_article.sync_detailed(slug, client=reader), HTTPStatus.FORBIDDEN)
    assert forbidden == {"article": ["forbidden"]}
    missing = error(get_article.sync_detailed(f"nope-{RUN}", client=reader), HTTPStatus.NOT_FOUND)
    assert missing == {"article": ["not found"]}
    blank = NewArticleRequest(article=NewArticle(title=" ", description="d", body="b"))
    untitled = error(
        create_article.sync_detailed(client=author, body=blank), HTTPStatus.UNPROCESSABLE_ENTITY
    )
    assert untitled == {"title": ["can't be blank"]}
    print("403:", forbidden, "404:", missing, "422:", untitled)

    deleted = delete_article_comment.sync_detailed(slug, comment.id, client=reader)
    assert deleted.status_code == HTTPStatus.NO_CONTENT
    comments = get_article_comments.sync_detailed(slug, client=reader)
    assert expect(comments, HTTPStatus.OK, MultipleCommentsResponse).comments == []
    unfavorite = expect(
        delete_article_favorite.sync_detailed(slug, client=reader),
        HTTPStatus.OK,
        SingleArticleResponse,
    ).article
    assert (unfavorite.favorited, unfavorite.favorites_count) == (False, 0)
    unfollowed = unfollow_user_by_username.sync_detailed(author_name, client=reader)
    assert expect(unfollowed, HTTPStatus.OK, ProfileResponse).profile.following is False

    # An empty bio and a null image clear them: null again, on the user and on the profile.
    clear = UpdateUserRequest(user=UpdateUser(bio="", image=None))
    cleared = expect(
        update_current_user.sync_detailed(client=reader, body=clear), HTTPStatus.OK, UserResponse
    ).user
    assert (cleared.bio, cleared.image) == (None, None)
    profile = expect(
        get_profile_by_username.sync_detailed(reader_name, client=author),
        HTTPStatus.OK,
        ProfileResponse,
    ).profile
    assert (profile.bio, profile.image) == (None, None)

    # The author deletes the article; it is gone.
    assert delete_article.sync_detailed(slug, client=author).status_code == HTTPStatus.NO_CONTENT
    gone = error(get_article.sync_detailed(slug, client=author), HTTPStatus.NOT_FOUND)
    assert gone == {"article": ["not found"]}
    print(f"journey ok: {author_name} wrote {slug}; {reader_name} followed, favorited, commented")


def test_refreshing_session(api_url: str) -> None:
    """A client holding a whole session refreshes once on a 401 and retries, sync and async;
    both tokens rotate; a session that is over gives back the 401 after one refresh attempt."""
    with Client(base_url=api_url, raise_on_unexpected_status=True) as anonymous:
        signup = register(anonymous, "py_session")
    spent = signup.refresh_token
    assert isinstance(spent, str)
    session = Session(token="an-expired-token", refresh_token=spent)
    told: list[Session] = []
    sent: list[str] = []

    def record(request: httpx.Request) -> None:
        sent.append(f"{request.method} {request.url.path}")

    with refreshing_client(
        api_url, session, told.append, httpx_args={"event_hooks": {"request": [record]}}
    ) as client:
        # The body of the retried request is sent again.
        body = UpdateUserRequest(user=UpdateUser(bio="refreshed"))
        renamed = update_current_user.sync_detailed(client=client, body=body)
        assert expect(renamed, HTTPStatus.OK, UserResponse).user.bio == "refreshed"
        assert sent == ["PUT /api/user", "POST /api/users/token/refresh", "PUT /api/user"]
        assert session.refresh_token != spent and told == [session]
        # The server answers with the token presented: the refreshed one.
        me = expect(get_current_user.sync_detailed(client=client), HTTPStatus.OK, UserResponse)
        assert me.user.token == session.token
        # Signing out everywhere ends the session, refresh family included...
        assert logout.sync_detailed(client=client, all_=True).status_code == HTTPStatus.NO_CONTENT
        # ...so the client's next 401 tries one refresh, which fails, and hands back the 401.
        sent.clear()
        dead = get_current_user.sync_detailed(client=client)
        assert error(dead, HTTPStatus.UNAUTHORIZED) == {"token": ["is invalid"]}
        assert sent == ["GET /api/user", "POST /api/users/token/refresh"]
        assert len(told) == 1

    # The same flow drives the async client.
    with Client(base_url=api_url, raise_on_unexpected_status=True) as anonymous:
        again = register(anonymous, "py_session_async")
    assert isinstance(again.refresh_token, str)
    fresh = Session(token="an-expired-token", refresh_token=again.refresh_token)

    async def journey() -> str:
        async with refreshing_client(api_url, fresh) as client:
            response = await get_current_user.asyncio_detailed(client=client)
            return expect(response, HTTPStatus.OK, UserResponse).user.token

    assert asyncio.run(journey()) == fresh.token != "an-expired-token"
