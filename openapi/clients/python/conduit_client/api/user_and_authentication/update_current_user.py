from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.generic_error_model import GenericErrorModel
from ...models.update_user_request import UpdateUserRequest
from ...models.user_response import UserResponse
from ...types import Response


def _get_kwargs(
    *,
    body: UpdateUserRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/user",
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
) -> Response[GenericErrorModel | UserResponse]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: UpdateUserRequest,
) -> Response[GenericErrorModel | UserResponse]:
    """Update current user

     Change any of email, username, password, bio and image, and whether notifications
    come by email too (`emailNotifications`, an extension). `null` or empty
    bio/image clear them (to `null`); a taken username or email is a 409. A new
    password ends every other session of the user; this one goes on, and the answer
    holds the token presented.

    Args:
        body (UpdateUserRequest):

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
    client: AuthenticatedClient,
    body: UpdateUserRequest,
) -> GenericErrorModel | UserResponse | None:
    """Update current user

     Change any of email, username, password, bio and image, and whether notifications
    come by email too (`emailNotifications`, an extension). `null` or empty
    bio/image clear them (to `null`); a taken username or email is a 409. A new
    password ends every other session of the user; this one goes on, and the answer
    holds the token presented.

    Args:
        body (UpdateUserRequest):

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
    client: AuthenticatedClient,
    body: UpdateUserRequest,
) -> Response[GenericErrorModel | UserResponse]:
    """Update current user

     Change any of email, username, password, bio and image, and whether notifications
    come by email too (`emailNotifications`, an extension). `null` or empty
    bio/image clear them (to `null`); a taken username or email is a 409. A new
    password ends every other session of the user; this one goes on, and the answer
    holds the token presented.

    Args:
        body (UpdateUserRequest):

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
    client: AuthenticatedClient,
    body: UpdateUserRequest,
) -> GenericErrorModel | UserResponse | None:
    """Update current user

     Change any of email, username, password, bio and image, and whether notifications
    come by email too (`emailNotifications`, an extension). `null` or empty
    bio/image clear them (to `null`); a taken username or email is a 409. A new
    password ends every other session of the user; this one goes on, and the answer
    holds the token presented.

    Args:
        body (UpdateUserRequest):

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
