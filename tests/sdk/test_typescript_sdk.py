"""The TypeScript SDK's journey (openapi/clients/typescript/test/journey.test.ts) against gunicorn.

Type-checks the package with `tsc --noEmit`, emits JavaScript, then runs the journey with node's
test runner, CONDUIT_API_URL pointing at a live server on a fresh PostgreSQL database.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from testkit.settings import ROOT, unavailable

PACKAGE = ROOT / "openapi" / "clients" / "typescript"


def run(*command: str, env: dict[str, str] | None = None) -> None:
    result = subprocess.run(
        command,
        cwd=PACKAGE,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    print(f"$ {' '.join(command)}\n{result.stdout}{result.stderr}")
    assert result.returncode == 0, f"{' '.join(command)} exited with {result.returncode}"


@pytest.fixture(scope="module")
def node_package() -> None:
    """node and npm on PATH, and the package's pinned dependencies installed (`npm ci`)."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        unavailable("node/npm not on PATH: the TypeScript SDK needs node >= 20")
    installed = PACKAGE / "node_modules" / ".package-lock.json"  # written by npm ci
    lock = PACKAGE / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        run("npm", "ci", "--no-audit", "--no-fund")


def test_typescript_journey(node_package: None, api_url: str) -> None:
    tsc = str(PACKAGE / "node_modules" / ".bin" / "tsc")  # what `npx tsc` runs, minus npm's startup
    run(tsc, "--noEmit")
    run(tsc, "--noCheck")  # emit dist/ only: the line above type-checked
    run(
        "node",
        "--test",
        "--test-reporter=spec",
        "dist/test/journey.test.js",
        env={"CONDUIT_API_URL": api_url},
    )
