from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.generic_error_model import GenericErrorModel
from ...models.refresh_token_request import RefreshTokenRequest
from ...models.user_response import UserResponse
from ...types import Response


def _get_kwargs(
    *,
    body: RefreshTokenRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/users/token/refresh",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> GenericErrorModel | UserResponse | None:
    if response.status_code == 200:
        response_200 = UserResponse.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = GenericErrorModel.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = GenericErrorModel.from_dict(response.json())

        return response_403

    if response.status_code == 413:
        response_413 = GenericErrorModel.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = GenericErrorModel.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = GenericErrorModel.from_dict(response.json())

        return response_422

    if response.status_code == 429:
        response_429 = GenericErrorModel.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[GenericErrorModel | UserResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: RefreshTokenRequest,
) -> Response[GenericErrorModel | UserResponse]:
    """Refresh the session

     Exchange a refresh token for a new `token` and a new `refreshToken`; the one
    presented is spent. Presenting a spent one again ends its whole session (every
    token of it) and is a 401, except within a few seconds of its exchange
    (`REFRESH_GRACE_SECONDS`, for two tabs refreshing at once), which gets the same
    new session again. In cookie mode the `conduit_refresh` cookie may carry the
    refresh token instead of the body, with the `X-CSRF-Protection` header (else 403).
    No refresh token at all is a 401 (`token`: "is missing").

    Args:
        body (RefreshTokenRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | UserResponse]
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
    client: AuthenticatedClient | Client,
    body: RefreshTokenRequest,
) -> GenericErrorModel | UserResponse | None:
    """Refresh the session

     Exchange a refresh token for a new `token` and a new `refreshToken`; the one
    presented is spent. Presenting a spent one again ends its whole session (every
    token of it) and is a 401, except within a few seconds of its exchange
    (`REFRESH_GRACE_SECONDS`, for two tabs refreshing at once), which gets the same
    new session again. In cookie mode the `conduit_refresh` cookie may carry the
    refresh token instead of the body, with the `X-CSRF-Protection` header (else 403).
    No refresh token at all is a 401 (`token`: "is missing").

    Args:
        body (RefreshTokenRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GenericErrorModel | UserResponse
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: RefreshTokenRequest,
) -> Response[GenericErrorModel | UserResponse]:
    """Refresh the session

     Exchange a refresh token for a new `token` and a new `refreshToken`; the one
    presented is spent. Presenting a spent one again ends its whole session (every
    token of it) and is a 401, except within a few seconds of its exchange
    (`REFRESH_GRACE_SECONDS`, for two tabs refreshing at once), which gets the same
    new session again. In cookie mode the `conduit_refresh` cookie may carry the
    refresh token instead of the body, with the `X-CSRF-Protection` header (else 403).
    No refresh token at all is a 401 (`token`: "is missing").

    Args:
        body (RefreshTokenRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | UserResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: RefreshTokenRequest,
) -> GenericErrorModel | UserResponse | None:
    """Refresh the session

     Exchange a refresh token for a new `token` and a new `refreshToken`; the one
    presented is spent. Presenting a spent one again ends its whole session (every
    token of it) and is a 401, except within a few seconds of its exchange
    (`REFRESH_GRACE_SECONDS`, for two tabs refreshing at once), which gets the same
    new session again. In cookie mode the `conduit_refresh` cookie may carry the
    refresh token instead of the body, with the `X-CSRF-Protection` header (else 403).
    No refresh token at all is a 401 (`token`: "is missing").

    Args:
        body (RefreshTokenRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GenericErrorModel | UserResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
