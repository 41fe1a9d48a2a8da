from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.generic_error_model import GenericErrorModel
from ...models.single_article_response import SingleArticleResponse
from ...models.update_article_request import UpdateArticleRequest
from ...types import Response


def _get_kwargs(
    slug: str,
    *,
    body: UpdateArticleRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/articles/{slug}".format(
            slug=quote(str(slug), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> GenericErrorModel | SingleArticleResponse | None:
    if response.status_code == 200:
        response_200 = SingleArticleResponse.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = GenericErrorModel.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = GenericErrorModel.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = GenericErrorModel.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = GenericErrorModel.from_dict(response.json())

        return response_409

    if response.status_code == 413:
        response_413 = GenericErrorModel.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = GenericErrorModel.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = GenericErrorModel.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[GenericErrorModel | SingleArticleResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    slug: str,
    *,
    client: AuthenticatedClient,
    body: UpdateArticleRequest,
) -> Response[GenericErrorModel | SingleArticleResponse]:
    """Update an article

     Only the author may. A new title gives a new slug; `tagList`, when sent, replaces the tags.

    Args:
        slug (str):
        body (UpdateArticleRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | SingleArticleResponse]
    """

    kwargs = _get_kwargs(
        slug=slug,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    slug: str,
    *,
    client: AuthenticatedClient,
    body: UpdateArticleRequest,
) -> GenericErrorModel | SingleArticleResponse | None:
    """Update an article

     Only the author may. A new title gives a new slug; `tagList`, when sent, replaces the tags.

    Args:
        slug (str):
        body (UpdateArticleRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GenericErrorModel | SingleArticleResponse
    """

    return sync_detailed(
        slug=slug,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    slug: str,
    *,
    client: AuthenticatedClient,
    body: UpdateArticleRequest,
) -> Response[GenericErrorModel | SingleArticleResponse]:
    """Update an article

     Only the author may. A new title gives a new slug; `tagList`, when sent, replaces the tags.

    Args:
        slug (str):
        body (UpdateArticleRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | SingleArticleResponse]
    """

    kwargs = _get_kwargs(
        slug=slug,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    slug: str,
    *,
    client: AuthenticatedClient,
    body: UpdateArticleRequest,
) -> GenericErrorModel | SingleArticleResponse | None:
    """Update an article

     Only the author may. A new title gives a new slug; `tagList`, when sent, replaces the tags.

    Args:
        slug (str):
        body (UpdateArticleRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GenericErrorModel | SingleArticleResponse
    """

    return (
        await asyncio_detailed(
            slug=slug,
            client=client,
            body=body,
        )
    ).parsed
