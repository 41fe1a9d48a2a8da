from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.generic_error_model import GenericErrorModel
from ...models.mark_read import MarkRead
from ...models.unread_count_response import UnreadCountResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: MarkRead | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/notifications/read",
    }

    if not isinstance(body, Unset):
        _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> GenericErrorModel | UnreadCountResponse | None:
    if response.status_code == 200:
        response_200 = UnreadCountResponse.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = GenericErrorModel.from_dict(response.json())

        return response_401

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
) -> Response[GenericErrorModel | UnreadCountResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: MarkRead | Unset = UNSET,
) -> Response[GenericErrorModel | UnreadCountResponse]:
    """Mark notifications read

     All of them, or with `{"upTo": id}` those up to the newest one you have seen (so
    one that arrived since stays unread). Idempotent. Answers how many stay unread.

    Args:
        body (MarkRead | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | UnreadCountResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: MarkRead | Unset = UNSET,
) -> GenericErrorModel | UnreadCountResponse | None:
    """Mark notifications read

     All of them, or with `{"upTo": id}` those up to the newest one you have seen (so
    one that arrived since stays unread). Idempotent. Answers how many stay unread.

    Args:
        body (MarkRead | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GenericErrorModel | UnreadCountResponse
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: MarkRead | Unset = UNSET,
) -> Response[GenericErrorModel | UnreadCountResponse]:
    """Mark notifications read

     All of them, or with `{"upTo": id}` those up to the newest one you have seen (so
    one that arrived since stays unread). Idempotent. Answers how many stay unread.

    Args:
        body (MarkRead | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | UnreadCountResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: MarkRead | Unset = UNSET,
) -> GenericErrorModel | UnreadCountResponse | None:
    """Mark notifications read

     All of them, or with `{"upTo": id}` those up to the newest one you have seen (so
    one that arrived since stays unread). Idempotent. Answers how many stay unread.

    Args:
        body (MarkRead | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GenericErrorModel | UnreadCountResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
