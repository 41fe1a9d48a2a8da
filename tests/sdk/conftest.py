"""A live gunicorn on a fresh PostgreSQL database for each SDK journey module."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from testkit.database import throwaway_database
from testkit.servers import gunicorn
from testkit.settings import ROOT, TEST_DATABASE_URL, unavailable

# The generated Python SDK is used straight from the repo (mypy finds it through `mypy_path`),
# so the journey always exercises the committed code, never a stale installed copy.
PYTHON_SDK = ROOT / "openapi" / "clients" / "python"
if str(PYTHON_SDK) not in sys.path:
    sys.path.insert(0, str(PYTHON_SDK))


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    """The API base URL (`http://127.0.0.1:PORT/api`) of `make serve` on a throwaway database."""
    with throwaway_database("conduit_sdk", TEST_DATABASE_URL, unreachable=unavailable) as url:
        # Rate limits are not what the journeys prove (reruns within a minute would trip them).
        quiet = {"RATE_LIMIT_ENABLED": "false", "ACCESS_LOG": "false"}
        with gunicorn(url, workers=2, env=quiet) as base_url:
            yield f"{base_url}/api"
