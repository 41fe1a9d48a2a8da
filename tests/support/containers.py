"""Podman for tests/ops/test_container.py: a Debian 12 base made with debootstrap, the image
built from our Containerfile on it, and containers run the way this machine allows.

Official base images cannot be pulled here, so the base is made from Debian's archive and
cached outside the repo (CONDUIT_IMAGE_CACHE, /var/cache/conduit-images), keyed by a hash of
what went into it. Debian's podman 4.3 runs containers here as root with runc (crun refuses:
cgroups in hybrid mode) on the host network, without default ulimits (setrlimit is denied).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from testkit.settings import ROOT

CACHE = Path(os.environ.get("CONDUIT_IMAGE_CACHE", "/var/cache/conduit-images"))
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# What python:3.11-slim gives the Containerfile: Python 3.11 with venv, and CA certificates.
PACKAGES = ("python3", "python3-venv", "ca-certificates")
# This machine's CA bundle (its egress proxy signs PyPI's certificate): pip in the build uses it.
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
# What debian:bookworm-slim (python:3.11-slim's base) leaves out; copyright files stay.
SLIMMED = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale",
           "var/cache/apt/archives", "var/lib/apt/lists")  # fmt: skip
# A tag of this run's own: suites of other work trees may build theirs on this machine meanwhile.
IMAGE = f"localhost/conduit:test-{os.getpid()}"
Completed = subprocess.CompletedProcess[str]
CONTAINERS_CONF = """\
[containers]
default_ulimits = []

[engine]
runtime = "runc"
"""


def cannot_run() -> str | None:
    """Why no image can be built and run on this machine, or None."""
    missing = [tool for tool in ("podman", "runc", "debootstrap") if shutil.which(tool) is None]
    if missing:
        return f"{', '.join(missing)} not installed (apt-get install podman runc debootstrap)"
    if os.geteuid() != 0:
        return "podman runs containers here as root, and debootstrap needs root"
    return None


def podman(*args: str, timeout: float = 120, check: bool = True) -> Completed:
    conf = CACHE / "containers.conf"
    if not conf.exists() or conf.read_text() != CONTAINERS_CONF:
        CACHE.mkdir(parents=True, exist_ok=True)
        conf.write_text(CONTAINERS_CONF)
    result = subprocess.run(
        ["podman", *args],
        env={**os.environ, "CONTAINERS_CONF": str(conf)},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise RuntimeError(f"podman {' '.join(args)}: exit {result.returncode}\n{result.stderr}")
    return result


def debian_base() -> str:
    """The base image's name, imported from the cached debootstrap tarball (made if missing)."""
    recipe = json.dumps([SUITE, MIRROR, "minbase", PACKAGES, SLIMMED]).encode()
    ca = HOST_CA.read_bytes() if HOST_CA.exists() else b""
    key = hashlib.sha256(recipe + ca).hexdigest()[:12]
    name = f"localhost/conduit-test-base:{SUITE}-{key}"
    if podman("image", "exists", name, check=False).returncode == 0:
        return name
    tarball = CACHE / f"{SUITE}-{key}.tar"
    if not tarball.exists():
        _debootstrap(tarball, ca)
    podman("import", "--change", "ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt",
           str(tarball), name, timeout=300)  # fmt: skip
    return name


def _debootstrap(tarball: Path, ca: bytes) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="debootstrap-", dir=CACHE))
    try:
        subprocess.run(
            ["debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}",
             SUITE, str(root), MIRROR],
            check=True, capture_output=True, timeout=900,
        )  # fmt: skip
        for slimmed in SLIMMED:
            for path in (root / slimmed).rglob("*"):
                if path.is_file() and path.name != "copyright":
                    path.unlink()
        if ca:
            (root / "etc/ssl/certs/ca-certificates.crt").write_bytes(ca)
        partial = tarball.with_suffix(f".partial-{os.getpid()}")
        subprocess.run(["tar", "--one-file-system", "-C", str(root), "-cf", str(partial), "."],
                       check=True)  # fmt: skip
        partial.rename(tarball)
    finally:
        # debootstrap unmounts what it mounted inside (proc, sys) even when it fails; should a
        # mount remain, the tree is left alone rather than removed through it.
        mounts = Path("/proc/mounts").read_text()
        if f" {root}/" not in mounts:
            shutil.rmtree(root, ignore_errors=True)


def build(base: str) -> float:
    """Build the Containerfile on `base` as IMAGE; the seconds it took (layers are cached)."""
    started = time.monotonic()
    podman("build", "--format", "docker", "--network", "host", "--build-arg", f"BASE={base}",
           "-t", IMAGE, "-f", str(ROOT / "Containerfile"), str(ROOT), timeout=900)  # fmt: skip
    # Old builds' layers, a week unused: the build cache keeps what recent builds made.
    podman("image", "prune", "-f", "--filter", "until=168h", check=False)
    return time.monotonic() - started


def untag() -> None:
    """Drop this run's tag; its layers stay as the next build's cache."""
    podman("untag", IMAGE, check=False)


def image_size() -> int:
    return int(podman("image", "inspect", IMAGE, "--format", "{{.Size}}").stdout.strip())


# As in production (compose.yaml): a read-only root, a tmpfs on /tmp and nothing else writable.
# The healthcheck's timer needs systemd, absent here: `podman healthcheck run` runs it instead.
RUN_OPTIONS = ("--network", "host", "--read-only", "--read-only-tmpfs=false",
               "--tmpfs", "/tmp", "--health-interval", "disable")  # fmt: skip  # noqa: S108


def _env_args(env: dict[str, str]) -> list[str]:
    return [arg for name, value in env.items() for arg in ("--env", f"{name}={value}")]


def run_once(*command: str, env: dict[str, str], timeout: float = 120) -> Completed:
    """A one-shot command of IMAGE (`migrate`), removed when it exits."""
    return podman("run", "--rm", *RUN_OPTIONS, *_env_args(env), IMAGE, *command,
                  timeout=timeout, check=False)  # fmt: skip


@dataclass
class Container:
    name: str

    def inspect(self, template: str) -> str:
        return podman("inspect", "--format", template, self.name).stdout.strip()

    def running(self) -> bool:
        return self.inspect("{{.State.Running}}") == "true"

    def exec(self, *command: str) -> Completed:
        return podman("exec", self.name, *command, check=False)

    def logs(self) -> str:
        result = podman("logs", self.name, check=False)
        return result.stdout + result.stderr


@contextmanager
def container(role: str, env: dict[str, str]) -> Iterator[Container]:
    """A role of IMAGE, detached; removed afterwards whatever happens."""
    name = f"conduit-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    podman("run", "--detach", "--name", name, *RUN_OPTIONS, *_env_args(env), IMAGE, role)
    try:
        yield Container(name)
    finally:
        podman("rm", "--force", "--time", "0", name, check=False, timeout=60)


def ready(base_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{base_url}/api/ready", timeout=2) as reply:  # noqa: S310
            return bool(reply.status == 200)
    except OSError:
        return False
