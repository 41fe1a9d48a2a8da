from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.generic_error_model import GenericErrorModel
from ...models.multiple_notifications_response import MultipleNotificationsResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["offset"] = offset

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/notifications",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> GenericErrorModel | MultipleNotificationsResponse | None:
    if response.status_code == 200:
        response_200 = MultipleNotificationsResponse.from_dict(response.json())

        return response_200

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
) -> Response[GenericErrorModel | MultipleNotificationsResponse]:
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
) -> Response[GenericErrorModel | MultipleNotificationsResponse]:
    """Get your notifications

     Newest first: someone followed you, commented on or favorited your article, or an
    author you follow published. Page with `limit` (1-100, default 20) and `offset`;
    `notificationsCount` counts them all, `unreadCount` those not marked read. They
    arrive moments after the write that caused them (they are delivered in the
    background).

    Args:
        limit (int | Unset):  Default: 20.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | MultipleNotificationsResponse]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
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
) -> GenericErrorModel | MultipleNotificationsResponse | None:
    """Get your notifications

     Newest first: someone followed you, commented on or favorited your article, or an
    author you follow published. Page with `limit` (1-100, default 20) and `offset`;
    `notificationsCount` counts them all, `unreadCount` those not marked read. They
    arrive moments after the write that caused them (they are delivered in the
    background).

    Args:
        limit (int | Unset):  Default: 20.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GenericErrorModel | MultipleNotificationsResponse
    """

    return sync_detailed(
        client=client,
        limit=limit,
        offset=offset,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
) -> Response[GenericErrorModel | MultipleNotificationsResponse]:
    """Get your notifications

     Newest first: someone followed you, commented on or favorited your article, or an
    author you follow published. Page with `limit` (1-100, default 20) and `offset`;
    `notificationsCount` counts them all, `unreadCount` those not marked read. They
    arrive moments after the write that caused them (they are delivered in the
    background).

    Args:
        limit (int | Unset):  Default: 20.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | MultipleNotificationsResponse]
    """

    kwargs = _get_kwargs(
        limit=limit,
        offset=offset,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    limit: int | Unset = 20,
    offset: int | Unset = 0,
) -> GenericErrorModel | MultipleNotificationsResponse | None:
    """Get your notifications

     Newest first: someone followed you, commented on or favorited your article, or an
    author you follow published. Page with `limit` (1-100, default 20) and `offset`;
    `notificationsCount` counts them all, `unreadCount` those not marked read. They
    arrive moments after the write that caused them (they are delivered in the
    background).

    Args:
        limit (int | Unset):  Default: 20.
        offset (int | Unset):  Default: 0.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GenericErrorModel | MultipleNotificationsResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            offset=offset,
        )
    ).parsed
