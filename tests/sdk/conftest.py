"""A live gunicorn on a fresh PostgreSQL database for each SDK journey module."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import create_engine, make_url, text

from tests.conftest import TEST_DATABASE_URL, unavailable
from tests.live import ROOT, gunicorn

# The generated Python SDK is used straight from the repo (mypy finds it through `mypy_path`),
# so the journey always exercises the committed code, never a stale installed copy.
PYTHON_SDK = ROOT / "openapi" / "clients" / "python"
if str(PYTHON_SDK) not in sys.path:
    sys.path.insert(0, str(PYTHON_SDK))


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    """The API base URL (`http://127.0.0.1:PORT/api`) of `make serve` on a throwaway database."""
    admin = make_url(TEST_DATABASE_URL)
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    name = f"conduit_sdk_{uuid.uuid4().hex[:12]}"
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        engine.dispose()
        unavailable(f"PostgreSQL not reachable at {TEST_DATABASE_URL}: {exc.__class__.__name__}")
    try:
        url = admin.set(database=name).render_as_string(hide_password=False)
        # Rate limits are not what the journeys prove (reruns within a minute would trip them),
        # and access logs would only fill the stderr pipe tests.live reads on failure.
        quiet = {"RATE_LIMIT_ENABLED": "false", "ACCESS_LOG": "false"}
        with gunicorn(url, workers=2, env=quiet) as base_url:
            yield f"{base_url}/api"
    finally:
        with engine.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        engine.dispose()
