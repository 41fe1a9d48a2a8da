from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.generic_error_model import GenericErrorModel
from ...models.multiple_articles_response import MultipleArticlesResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    slug: str,
    *,
    limit: int | Unset = 5,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/articles/{slug}/related".format(
            slug=quote(str(slug), safe=""),
        ),
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> GenericErrorModel | MultipleArticlesResponse | None:
    if response.status_code == 200:
        response_200 = MultipleArticlesResponse.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = GenericErrorModel.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = GenericErrorModel.from_dict(response.json())

        return response_404

    if response.status_code == 422:
        response_422 = GenericErrorModel.from_dict(response.json())

        return response_422

    if response.status_code == 503:
        response_503 = GenericErrorModel.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[GenericErrorModel | MultipleArticlesResponse]:
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
    limit: int | Unset = 5,
) -> Response[GenericErrorModel | MultipleArticlesResponse]:
    """Get related articles

     The articles nearest in meaning to this one (its title, description and body, by the
    embedding model), nearest first, itself excluded; `limit` default 5, at most 20 served. An article
    not embedded yet (it is, in the background, seconds after it is written) has none.

    Args:
        slug (str):
        limit (int | Unset):  Default: 5.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | MultipleArticlesResponse]
    """

    kwargs = _get_kwargs(
        slug=slug,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    slug: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 5,
) -> GenericErrorModel | MultipleArticlesResponse | None:
    """Get related articles

     The articles nearest in meaning to this one (its title, description and body, by the
    embedding model), nearest first, itself excluded; `limit` default 5, at most 20 served. An article
    not embedded yet (it is, in the background, seconds after it is written) has none.

    Args:
        slug (str):
        limit (int | Unset):  Default: 5.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GenericErrorModel | MultipleArticlesResponse
    """

    return sync_detailed(
        slug=slug,
        client=client,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    slug: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 5,
) -> Response[GenericErrorModel | MultipleArticlesResponse]:
    """Get related articles

     The articles nearest in meaning to this one (its title, description and body, by the
    embedding model), nearest first, itself excluded; `limit` default 5, at most 20 served. An article
    not embedded yet (it is, in the background, seconds after it is written) has none.

    Args:
        slug (str):
        limit (int | Unset):  Default: 5.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | MultipleArticlesResponse]
    """

    kwargs = _get_kwargs(
        slug=slug,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    slug: str,
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 5,
) -> GenericErrorModel | MultipleArticlesResponse | None:
    """Get related articles

     The articles nearest in meaning to this one (its title, description and body, by the
    embedding model), nearest first, itself excluded; `limit` default 5, at most 20 served. An article
    not embedded yet (it is, in the background, seconds after it is written) has none.

    Args:
        slug (str):
        limit (int | Unset):  Default: 5.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GenericErrorModel | MultipleArticlesResponse
    """

    return (
        await asyncio_detailed(
            slug=slug,
            client=client,
            limit=limit,
        )
    ).parsed
