from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.generic_error_model import GenericErrorModel
from ...models.new_article_request import NewArticleRequest
from ...models.single_article_response import SingleArticleResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: NewArticleRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/articles",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> GenericErrorModel | SingleArticleResponse | None:
    if response.status_code == 201:
        response_201 = SingleArticleResponse.from_dict(response.json())

        return response_201

    if response.status_code == 401:
        response_401 = GenericErrorModel.from_dict(response.json())

        return response_401

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
    *,
    client: AuthenticatedClient,
    body: NewArticleRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[GenericErrorModel | SingleArticleResponse]:
    """Create an article

     The slug derives from the title (with a numeric suffix when taken); tags are
    de-duplicated and returned sorted.

    Args:
        idempotency_key (str | Unset):
        body (NewArticleRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | SingleArticleResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: NewArticleRequest,
    idempotency_key: str | Unset = UNSET,
) -> GenericErrorModel | SingleArticleResponse | None:
    """Create an article

     The slug derives from the title (with a numeric suffix when taken); tags are
    de-duplicated and returned sorted.

    Args:
        idempotency_key (str | Unset):
        body (NewArticleRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GenericErrorModel | SingleArticleResponse
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: NewArticleRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[GenericErrorModel | SingleArticleResponse]:
    """Create an article

     The slug derives from the title (with a numeric suffix when taken); tags are
    de-duplicated and returned sorted.

    Args:
        idempotency_key (str | Unset):
        body (NewArticleRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | SingleArticleResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: NewArticleRequest,
    idempotency_key: str | Unset = UNSET,
) -> GenericErrorModel | SingleArticleResponse | None:
    """Create an article

     The slug derives from the title (with a numeric suffix when taken); tags are
    de-duplicated and returned sorted.

    Args:
        idempotency_key (str | Unset):
        body (NewArticleRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GenericErrorModel | SingleArticleResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
