"""Test settings: the app's, where the test PostgreSQL server is, and what CI demands."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, NoReturn

import pytest

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
IN_CI = os.environ.get("CI", "").lower() == "true"
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
# The server tests create throwaway databases on.
TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL", DEFAULT_ADMIN_URL)
TEST_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


def unavailable(reason: str) -> NoReturn:
    """Skip on a bare machine; under CI a missing service is a failure, never a skip."""
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: this must run)", pytrace=False)
    pytest.skip(reason)


def make_settings(url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "test",
        "database_url": url,
        "jwt_secret_key": TEST_SECRET,
        "rate_limit_enabled": False,
        "access_log": False,
        "outbox_hint": False,  # tests relay explicitly, in their own transaction
        **overrides,
    }
    return Settings(**values)
