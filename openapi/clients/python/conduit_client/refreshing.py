"""Sessions that renew themselves: on a 401, refresh once (both tokens rotate) and retry.

Written by hand (openapi/clients/python-extras/), copied into the generated package by `make sdk`.

    session = Session(token=user.token, refresh_token=user.refresh_token)
    with refreshing_client("https://conduit.example/api", session) as client:
        get_current_user.sync_detailed(client=client)  # a stale token is renewed on the way

`session` is updated in place after each refresh; `on_refresh(session)` is told, to persist it.
Two threads hitting a 401 with the same token both refresh with the same refresh token: the
server's grace window (`REFRESH_GRACE_SECONDS`) hands both the same successor.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from dataclasses import dataclass
from typing import Any

import httpx

from .client import AuthenticatedClient


@dataclass
class Session:
    """A session's tokens, as login, registration and `RefreshToken` return them."""

    token: str
    refresh_token: str


class RefreshingAuth(httpx.Auth):
    """Signs each request with the session's token; on a 401 refreshes once and retries."""

    requires_request_body = True  # the retry sends the same body again
    requires_response_body = True  # the refresh's answer is read inside the flow

    def __init__(self, base_url: str, session: Session, on_refresh: Callable[[Session], None] | None = None) -> None:
        self.refresh_url = f"{base_url.rstrip('/')}/users/token/refresh"
        self.session = session
        self.on_refresh = on_refresh

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        sent = self.session.token
        request.headers["Authorization"] = f"Token {sent}"
        response = yield request
        if response.status_code != 401:
            return
        if self.session.token == sent:  # nobody has refreshed since this request was signed
            body = json.dumps({"refreshToken": self.session.refresh_token})
            refreshed = yield httpx.Request(
                "POST", self.refresh_url, content=body, headers={"Content-Type": "application/json"}
            )
            if refreshed.status_code != 200:
                return  # the session is over: the caller gets the original 401
            user: dict[str, Any] = refreshed.json()["user"]
            self.session.token = user["token"]
            self.session.refresh_token = user["refreshToken"]
            if self.on_refresh is not None:
                self.on_refresh(self.session)
        request.headers["Authorization"] = f"Token {self.session.token}"
        yield request


def refreshing_client(
    base_url: str,
    session: Session,
    on_refresh: Callable[[Session], None] | None = None,
    **kwargs: Any,
) -> AuthenticatedClient:
    """A client for the API at `base_url` signed in as `session`, renewing it on a 401.

    `kwargs` go to `AuthenticatedClient` (its `httpx_args` are kept, beside the auth).
    """
    httpx_args = {**kwargs.pop("httpx_args", {}), "auth": RefreshingAuth(base_url, session, on_refresh)}
    # The token given here is only the default header: the auth flow signs every request with
    # the session's current token.
    return AuthenticatedClient(base_url=base_url, token=session.token, prefix="Token", httpx_args=httpx_args, **kwargs)
