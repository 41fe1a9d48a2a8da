"""A short journey through an *installed* conduit-client, run by a fresh venv's python.

tests/test_sdk_packages.py builds the wheel, installs it into a new venv and runs this file
with that venv's interpreter in isolated mode (`python -I`), so only the standard library and
what the wheel brought are importable. Usage: `python -I packaged_journey.py <API base URL>`.
Prints one line per step, then a JSON summary (the last line) for the test to check.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import sys
import uuid
from http import HTTPStatus
from typing import Any, TypeVar

import conduit_client
from conduit_client import AuthenticatedClient, Client
from conduit_client.api.articles import create_article, get_article
from conduit_client.api.user_and_authentication import create_user, login
from conduit_client.models import (
    GenericErrorModel,
    LoginUser,
    LoginUserRequest,
    NewArticle,
    NewArticleRequest,
    NewUser,
    NewUserRequest,
    SingleArticleResponse,
    UserResponse,
)
from conduit_client.types import Response

M = TypeVar("M")


def expect(response: Response[Any], status: HTTPStatus, model: type[M]) -> M:
    """The parsed body, after checking the status and that the SDK parsed it as `model`."""
    if response.status_code != status or not isinstance(response.parsed, model):
        got = f"{response.status_code}: {response.content!r}"
        raise SystemExit(f"expected {status:d} {model.__name__}, got {got}")
    return response.parsed


def main(api_url: str) -> dict[str, Any]:
    run = uuid.uuid4().hex[:8]
    name, email, password = f"pkg_py_{run}", f"pkg_py_{run}@example.com", "pkg-py-password"
    with Client(base_url=api_url) as anonymous:
        new = NewUserRequest(user=NewUser(username=name, email=email, password=password))
        user = expect(
            create_user.sync_detailed(client=anonymous, body=new), HTTPStatus.CREATED, UserResponse
        ).user
        print(f"201 register {user.username}")
        credentials = LoginUserRequest(user=LoginUser(email=email, password=password))
        token = expect(
            login.sync_detailed(client=anonymous, body=credentials), HTTPStatus.OK, UserResponse
        ).user.token
        print(f"200 login {name}")

        draft = NewArticle(title=f"Packaged {run}", description="wheel", body="Installed.")
        with AuthenticatedClient(base_url=api_url, token=token, prefix="Token") as author:
            created = expect(
                create_article.sync_detailed(client=author, body=NewArticleRequest(article=draft)),
                HTTPStatus.CREATED,
                SingleArticleResponse,
            ).article
            print(f"201 create article {created.slug}")
            read = expect(
                get_article.sync_detailed(created.slug, client=author),
                HTTPStatus.OK,
                SingleArticleResponse,
            ).article
        if (read.title, read.author.username) != (draft.title, name):
            raise SystemExit(f"read back {read.title!r} by {read.author.username!r}")
        print(f"200 read article {read.slug} by {read.author.username}")

        again = NewUserRequest(
            user=NewUser(username=name, email=f"other_{run}@example.com", password=password)
        )
        duplicate = create_user.sync_detailed(client=anonymous, body=again)
        errors = expect(duplicate, HTTPStatus.CONFLICT, GenericErrorModel).errors
        taken = errors["username"]  # read by key, the way a client shows it next to the field
        print(f"409 register {name} again: username {taken}")
    return {
        "distribution_version": importlib.metadata.version("conduit-client"),
        "module_file": conduit_client.__file__,
        "prefix": sys.prefix,
        "base_prefix": sys.base_prefix,
        "sys_path": sys.path,
        # The app's own venv must not leak in: flask is there, never in a fresh SDK venv.
        "flask_importable": importlib.util.find_spec("flask") is not None,
        "slug": created.slug,
        "read_title": read.title,
        "duplicate_status": duplicate.status_code,
        "duplicate_errors": errors.additional_properties,
    }


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1])))
