from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.generic_error_model import GenericErrorModel
from ...models.new_comment_request import NewCommentRequest
from ...models.single_comment_response import SingleCommentResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    slug: str,
    *,
    body: NewCommentRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/articles/{slug}/comments".format(
            slug=quote(str(slug), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> GenericErrorModel | SingleCommentResponse | None:
    if response.status_code == 201:
        response_201 = SingleCommentResponse.from_dict(response.json())

        return response_201

    if response.status_code == 401:
        response_401 = GenericErrorModel.from_dict(response.json())

        return response_401

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
) -> Response[GenericErrorModel | SingleCommentResponse]:
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
    body: NewCommentRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[GenericErrorModel | SingleCommentResponse]:
    """Create a comment for an article

     Any signed-in user may comment on any article.

    Args:
        slug (str):
        idempotency_key (str | Unset):
        body (NewCommentRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | SingleCommentResponse]
    """

    kwargs = _get_kwargs(
        slug=slug,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    slug: str,
    *,
    client: AuthenticatedClient,
    body: NewCommentRequest,
    idempotency_key: str | Unset = UNSET,
) -> GenericErrorModel | SingleCommentResponse | None:
    """Create a comment for an article

     Any signed-in user may comment on any article.

    Args:
        slug (str):
        idempotency_key (str | Unset):
        body (NewCommentRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GenericErrorModel | SingleCommentResponse
    """

    return sync_detailed(
        slug=slug,
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    slug: str,
    *,
    client: AuthenticatedClient,
    body: NewCommentRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[GenericErrorModel | SingleCommentResponse]:
    """Create a comment for an article

     Any signed-in user may comment on any article.

    Args:
        slug (str):
        idempotency_key (str | Unset):
        body (NewCommentRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | SingleCommentResponse]
    """

    kwargs = _get_kwargs(
        slug=slug,
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    slug: str,
    *,
    client: AuthenticatedClient,
    body: NewCommentRequest,
    idempotency_key: str | Unset = UNSET,
) -> GenericErrorModel | SingleCommentResponse | None:
    """Create a comment for an article

     Any signed-in user may comment on any article.

    Args:
        slug (str):
        idempotency_key (str | Unset):
        body (NewCommentRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GenericErrorModel | SingleCommentResponse
    """

    return (
        await asyncio_detailed(
            slug=slug,
            client=client,
            body=body,
            idempotency_key=idempotency_key,
        )
    ).parsed
