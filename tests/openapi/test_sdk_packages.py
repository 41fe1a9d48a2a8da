"""The SDKs as their users get them: built packages, installed into clean environments.

The Python SDK is built as a wheel and installed into a fresh venv (its runtime dependencies,
httpx and attrs, come from the package index); the TypeScript SDK is `npm pack`ed (its prepack
script runs `tsc`) and installed into an empty npm project. Each then runs a short journey
(tests/sdk/packaged_journey.py, tests/sdk/packaged_journey.mjs) with *that* environment's
interpreter against one live gunicorn on a throwaway PostgreSQL database: register, log in,
create an article, read it, and register again for a 409 whose errors are read by key. Both
packages must carry the spec's info.version, and the code that ran must be the installed copy,
never our source tree. tests/sdk drives the SDKs from source; this is what `pip install` and
`npm install` of a release give.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from testkit.database import throwaway_database
from testkit.servers import gunicorn
from testkit.settings import ROOT, TEST_DATABASE_URL, unavailable

SPEC = ROOT / "openapi" / "openapi.json"
PYTHON_SDK = ROOT / "openapi" / "clients" / "python"
TYPESCRIPT_SDK = ROOT / "openapi" / "clients" / "typescript"
JOURNEYS = ROOT / "tests" / "sdk"
TAKEN = {"username": ["has already been taken"]}


def spec_version() -> str:
    version: str = json.loads(SPEC.read_text())["info"]["version"]
    return version


def run(command: list[str | Path], cwd: Path, env: Mapping[str, str] | None = None) -> str:
    """Run `command`, print it with its output and duration, fail on a non-zero exit."""
    argv = [str(part) for part in command]
    started = time.monotonic()
    result = subprocess.run(
        argv,
        cwd=cwd,
        env=dict(os.environ if env is None else env),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    print(
        f"$ {shlex.join(argv)}  [{time.monotonic() - started:.1f}s]\n{result.stdout}{result.stderr}"
    )
    assert result.returncode == 0, f"{shlex.join(argv)} exited with {result.returncode}"
    return result.stdout


def summary(stdout: str) -> dict[str, Any]:
    """The journey's last line: its JSON summary."""
    facts: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return facts


def is_within(path: str | Path, directory: Path) -> bool:
    return Path(path).resolve().is_relative_to(directory.resolve())


@dataclass
class Wheel:
    path: Path
    venv: Path

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"


@dataclass
class Tarball:
    path: Path
    files: list[str]
    project: Path  # the npm project it is installed into


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Wheel:
    """conduit-client's wheel, built from openapi/clients/python and installed in a new venv."""
    work = tmp_path_factory.mktemp("sdk-wheel")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", work / "dist", PYTHON_SDK], work)
    built = sorted((work / "dist").glob("*.whl"))
    assert [path.name for path in built] == [f"conduit_client-{spec_version()}-py3-none-any.whl"]
    # A venv of the interpreter running this suite, empty: --without-pip spares ensurepip's ~8 s
    # (our pip installs into it with --python), and leaves only the wheel and what it pulls in.
    run([sys.executable, "-m", "venv", "--without-pip", work / "venv"], work)
    venv_python = work / "venv" / "bin" / "python"
    install: list[str | Path] = ["install", "--no-input", "-q", built[0]]
    run([sys.executable, "-m", "pip", "--python", venv_python, *install], work)
    return Wheel(built[0], work / "venv")


@pytest.fixture(scope="module")
def tarball(tmp_path_factory: pytest.TempPathFactory) -> Tarball:
    """conduit-client's `npm pack` tarball, installed into an empty npm project."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        unavailable("node/npm not on PATH: the TypeScript SDK needs node >= 20")
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=True)
    if int(node.stdout.strip().lstrip("v").split(".")[0]) < 20:
        unavailable(f"node {node.stdout.strip()} on PATH: the TypeScript SDK needs node >= 20")
    # The package's pinned dev dependencies (tsc for prepack), as `make sdk-test` installs them.
    installed = TYPESCRIPT_SDK / "node_modules" / ".package-lock.json"  # written by npm ci
    lock = TYPESCRIPT_SDK / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        run(["npm", "ci", "--no-audit", "--no-fund"], TYPESCRIPT_SDK)

    # Pack a copy: prepack's tsc then writes no dist/ into the checkout, and a stale file left
    # in the checkout's dist/ cannot ride along into the tarball.
    work = tmp_path_factory.mktemp("sdk-tarball")
    source = work / "typescript"
    shutil.copytree(
        TYPESCRIPT_SDK, source, ignore=shutil.ignore_patterns("node_modules", "dist", "*.tgz")
    )
    (source / "node_modules").symlink_to(TYPESCRIPT_SDK / "node_modules", target_is_directory=True)
    packed = json.loads(
        run(["npm", "pack", "--json", "--pack-destination", work, "--no-fund"], source)
    )
    assert [entry["filename"] for entry in packed] == [f"conduit-client-{spec_version()}.tgz"]
    path = work / packed[0]["filename"]
    files = sorted(file["path"] for file in packed[0]["files"])

    project = work / "app"
    project.mkdir()
    manifest = {"name": "conduit-sdk-consumer", "version": "0.0.0", "private": True}
    (project / "package.json").write_text(json.dumps({**manifest, "type": "module"}, indent=2))
    run(["npm", "install", "--no-audit", "--no-fund", path], project)
    return Tarball(path, files, project)


@pytest.fixture(scope="module")
def api_url() -> Iterator[str]:
    """The API base URL of `make serve` on a throwaway PostgreSQL database, for both journeys."""
    with throwaway_database("conduit_sdk_pkg", TEST_DATABASE_URL, unreachable=unavailable) as url:
        quiet = {"RATE_LIMIT_ENABLED": "false", "ACCESS_LOG": "false"}
        with gunicorn(url, workers=2, env=quiet) as base_url:
            yield f"{base_url}/api"


# api_url comes first (module-scoped fixtures start in argument order): without PostgreSQL the
# tests skip before spending time on builds.
def test_python_wheel_in_a_fresh_venv(api_url: str, wheel: Wheel) -> None:
    # -I: no PYTHON* variables, no script directory or cwd on sys.path; cwd is outside the repo.
    journey = JOURNEYS / "packaged_journey.py"
    output = run([wheel.python, "-I", journey, api_url], wheel.venv.parent)
    facts = summary(output)

    assert facts["distribution_version"] == spec_version()
    assert Path(facts["prefix"]).resolve() == wheel.venv.resolve() != Path(facts["base_prefix"])
    site_packages = wheel.venv / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}"
    assert is_within(facts["module_file"], site_packages / "site-packages"), facts["module_file"]
    assert not is_within(facts["module_file"], PYTHON_SDK), facts["module_file"]
    # Nothing else on the path either: only the venv and the base interpreter's standard library.
    homes = (wheel.venv, Path(facts["base_prefix"]))
    assert all(any(is_within(entry, home) for home in homes) for entry in facts["sys_path"])
    assert facts["flask_importable"] is False, "the app's venv leaked into the SDK's"
    assert facts["read_title"].startswith("Packaged ")
    assert (facts["duplicate_status"], facts["duplicate_errors"]) == (409, TAKEN)


def test_typescript_tarball_in_an_empty_npm_project(api_url: str, tarball: Tarball) -> None:
    # What ships: the compiled library and package.json, no sources, tests or node_modules.
    assert {"package.json", "dist/src/index.js", "dist/src/index.d.ts"} <= set(tarball.files)
    assert all(f == "package.json" or f.startswith("dist/src/") for f in tarball.files)
    installed = tarball.project / "node_modules" / "conduit-client"
    assert not installed.is_symlink(), "npm linked a directory instead of unpacking the tarball"
    assert json.loads((installed / "package.json").read_text())["version"] == spec_version()
    dependencies = json.loads((tarball.project / "package.json").read_text())["dependencies"]
    assert dependencies["conduit-client"].startswith("file:")
    assert dependencies["conduit-client"].endswith(tarball.path.name)

    # Copied into the project, so the bare `conduit-client` import resolves in its node_modules.
    journey = shutil.copy(JOURNEYS / "packaged_journey.mjs", tarball.project)
    facts = summary(run(["node", journey, api_url], tarball.project))

    assert facts["package_version"] == spec_version()
    resolved = facts["resolved"].removeprefix("file://")
    assert is_within(resolved, installed), facts["resolved"]
    assert not is_within(resolved, TYPESCRIPT_SDK), facts["resolved"]
    assert facts["read_title"].startswith("Packaged ")
    assert (facts["duplicate_status"], facts["duplicate_errors"]) == (409, TAKEN)
