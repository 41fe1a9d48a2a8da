from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.generic_error_model import GenericErrorModel
from ...models.new_article_request import NewArticleRequest
from ...models.tag_suggestions_response import TagSuggestionsResponse
from ...types import Response


def _get_kwargs(
    *,
    body: NewArticleRequest,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/tags/suggestions",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> GenericErrorModel | TagSuggestionsResponse | None:
    if response.status_code == 200:
        response_200 = TagSuggestionsResponse.from_dict(response.json())

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

    if response.status_code == 429:
        response_429 = GenericErrorModel.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = GenericErrorModel.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[GenericErrorModel | TagSuggestionsResponse]:
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
) -> Response[GenericErrorModel | TagSuggestionsResponse]:
    """Suggest tags for a draft

     The site's own tags, best first (at most 5), for a draft shaped like CreateArticle's:
    its nearest articles' tags by meaning, weighted, and a bonus for a tag the draft names.
    Tags in its `tagList` are left out. The model reads the first 256 tokens of title,
    description and body, in that order. 503 `model` when the model is unavailable.

    Args:
        body (NewArticleRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | TagSuggestionsResponse]
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
    body: NewArticleRequest,
) -> GenericErrorModel | TagSuggestionsResponse | None:
    """Suggest tags for a draft

     The site's own tags, best first (at most 5), for a draft shaped like CreateArticle's:
    its nearest articles' tags by meaning, weighted, and a bonus for a tag the draft names.
    Tags in its `tagList` are left out. The model reads the first 256 tokens of title,
    description and body, in that order. 503 `model` when the model is unavailable.

    Args:
        body (NewArticleRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GenericErrorModel | TagSuggestionsResponse
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: NewArticleRequest,
) -> Response[GenericErrorModel | TagSuggestionsResponse]:
    """Suggest tags for a draft

     The site's own tags, best first (at most 5), for a draft shaped like CreateArticle's:
    its nearest articles' tags by meaning, weighted, and a bonus for a tag the draft names.
    Tags in its `tagList` are left out. The model reads the first 256 tokens of title,
    description and body, in that order. 503 `model` when the model is unavailable.

    Args:
        body (NewArticleRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[GenericErrorModel | TagSuggestionsResponse]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: NewArticleRequest,
) -> GenericErrorModel | TagSuggestionsResponse | None:
    """Suggest tags for a draft

     The site's own tags, best first (at most 5), for a draft shaped like CreateArticle's:
    its nearest articles' tags by meaning, weighted, and a bonus for a tag the draft names.
    Tags in its `tagList` are left out. The model reads the first 256 tokens of title,
    description and body, in that order. 503 `model` when the model is unavailable.

    Args:
        body (NewArticleRequest):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        GenericErrorModel | TagSuggestionsResponse
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
