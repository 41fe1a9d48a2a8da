from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.generic_error_model import GenericErrorModel
from ...models.new_user_request import NewUserRequest
from ...models.user_response import UserResponse
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    body: NewUserRequest,
    idempotency_key: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(idempotency_key, Unset):
        headers["Idempotency-Key"] = idempotency_key

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/users",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> GenericErrorModel | UserResponse | None:
    if response.status_code == 201:
        response_201 = UserResponse.from_dict(response.json())

        return response_201

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
    body: NewUserRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[GenericErrorModel | UserResponse]:
    """Register a new user

     Create an account and return it with a new session (`token`, `refreshToken`). A
    taken username or email is a 409, keyed by the field (both when both are taken).

    Args:
        idempotency_key (str | Unset):
        body (NewUserRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | UserResponse]
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
    client: AuthenticatedClient | Client,
    body: NewUserRequest,
    idempotency_key: str | Unset = UNSET,
) -> GenericErrorModel | UserResponse | None:
    """Register a new user

     Create an account and return it with a new session (`token`, `refreshToken`). A
    taken username or email is a 409, keyed by the field (both when both are taken).

    Args:
        idempotency_key (str | Unset):
        body (NewUserRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GenericErrorModel | UserResponse
    """

    return sync_detailed(
        client=client,
        body=body,
        idempotency_key=idempotency_key,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    body: NewUserRequest,
    idempotency_key: str | Unset = UNSET,
) -> Response[GenericErrorModel | UserResponse]:
    """Register a new user

     Create an account and return it with a new session (`token`, `refreshToken`). A
    taken username or email is a 409, keyed by the field (both when both are taken).

    Args:
        idempotency_key (str | Unset):
        body (NewUserRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | UserResponse]
    """

    kwargs = _get_kwargs(
        body=body,
        idempotency_key=idempotency_key,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    body: NewUserRequest,
    idempotency_key: str | Unset = UNSET,
) -> GenericErrorModel | UserResponse | None:
    """Register a new user

     Create an account and return it with a new session (`token`, `refreshToken`). A
    taken username or email is a 409, keyed by the field (both when both are taken).

    Args:
        idempotency_key (str | Unset):
        body (NewUserRequest):

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
            idempotency_key=idempotency_key,
        )
    ).parsed
