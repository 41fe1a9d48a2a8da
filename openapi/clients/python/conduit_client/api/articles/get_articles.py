from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.generic_error_model import GenericErrorModel
from ...models.multiple_articles_response import MultipleArticlesResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
    q: str | Unset = UNSET,
    tag: str | Unset = UNSET,
    author: str | Unset = UNSET,
    favorited: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(if_none_match, Unset):
        headers["If-None-Match"] = if_none_match

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["offset"] = offset

    params["q"] = q

    params["tag"] = tag

    params["author"] = author

    params["favorited"] = favorited

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/articles",
        "params": params,
    }

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Any | GenericErrorModel | MultipleArticlesResponse | None:
    if response.status_code == 200:
        response_200 = MultipleArticlesResponse.from_dict(response.json())

        return response_200

    if response.status_code == 304:
        response_304 = cast(Any, None)
        return response_304

    if response.status_code == 401:
        response_401 = GenericErrorModel.from_dict(response.json())

        return response_401

    if response.status_code == 422:
        response_422 = GenericErrorModel.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Any | GenericErrorModel | MultipleArticlesResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
    q: str | Unset = UNSET,
    tag: str | Unset = UNSET,
    author: str | Unset = UNSET,
    favorited: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Response[Any | GenericErrorModel | MultipleArticlesResponse]:
    """Get recent articles globally

     Newest first. Filter by `tag`, `author` and `favorited` (combinable); page with
    `limit` (1-100, default 20) and `offset`. `articlesCount` counts all matches.

    Args:
        limit (int | Unset):  Default: 20.
        offset (int | Unset):  Default: 0.
        q (str | Unset):
        tag (str | Unset):
        author (str | Unset):
        favorited (str | Unset):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | GenericErrorModel | MultipleArticlesResponse]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
        q=q,
        tag=tag,
        author=author,
        favorited=favorited,
        if_none_match=if_none_match,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
    q: str | Unset = UNSET,
    tag: str | Unset = UNSET,
    author: str | Unset = UNSET,
    favorited: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Any | GenericErrorModel | MultipleArticlesResponse | None:
    """Get recent articles globally

     Newest first. Filter by `tag`, `author` and `favorited` (combinable); page with
    `limit` (1-100, default 20) and `offset`. `articlesCount` counts all matches.

    Args:
        limit (int | Unset):  Default: 20.
        offset (int | Unset):  Default: 0.
        q (str | Unset):
        tag (str | Unset):
        author (str | Unset):
        favorited (str | Unset):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | GenericErrorModel | MultipleArticlesResponse
    """

    return sync_detailed(
        client=client,
        limit=limit,
        offset=offset,
        q=q,
        tag=tag,
        author=author,
        favorited=favorited,
        if_none_match=if_none_match,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
    q: str | Unset = UNSET,
    tag: str | Unset = UNSET,
    author: str | Unset = UNSET,
    favorited: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Response[Any | GenericErrorModel | MultipleArticlesResponse]:
    """Get recent articles globally

     Newest first. Filter by `tag`, `author` and `favorited` (combinable); page with
    `limit` (1-100, default 20) and `offset`. `articlesCount` counts all matches.

    Args:
        limit (int | Unset):  Default: 20.
        offset (int | Unset):  Default: 0.
        q (str | Unset):
        tag (str | Unset):
        author (str | Unset):
        favorited (str | Unset):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Any | GenericErrorModel | MultipleArticlesResponse]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
        q=q,
        tag=tag,
        author=author,
        favorited=favorited,
        if_none_match=if_none_match,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
    q: str | Unset = UNSET,
    tag: str | Unset = UNSET,
    author: str | Unset = UNSET,
    favorited: str | Unset = UNSET,
    if_none_match: str | Unset = UNSET,
) -> Any | GenericErrorModel | MultipleArticlesResponse | None:
    """Get recent articles globally

     Newest first. Filter by `tag`, `author` and `favorited` (combinable); page with
    `limit` (1-100, default 20) and `offset`. `articlesCount` counts all matches.

    Args:
        limit (int | Unset):  Default: 20.
        offset (int | Unset):  Default: 0.
        q (str | Unset):
        tag (str | Unset):
        author (str | Unset):
        favorited (str | Unset):
        if_none_match (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Any | GenericErrorModel | MultipleArticlesResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            offset=offset,
            q=q,
            tag=tag,
            author=author,
            favorited=favorited,
            if_none_match=if_none_match,
        )
    ).parsed
