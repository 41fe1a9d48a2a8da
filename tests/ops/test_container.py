"""The container image, built from the Containerfile and booted: its three roles against the
machine's PostgreSQL, Redis and RabbitMQ, seen from outside.

The image is built once for the module on a Debian 12 base made with debootstrap (cached
outside the repo: tests/support/containers.py), standing in for python:3.11-slim, which cannot
be pulled here. Every container runs as production would: a read-only root, a tmpfs on /tmp.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import tomllib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from db.migrate import alembic_config
from deploy.nginx import find_nginx
from testkit.database import throwaway_database
from testkit.http import call
from testkit.servers import free_port
from testkit.settings import ROOT, unavailable
from testkit.workers import rabbitmq_unreachable, vhost, wait_for
from tests.ops.test_shutdown import SLOW_HASH, children, report, stop_under_load
from tests.sdk import conftest as _sdk  # noqa: F401 - puts the generated SDK on sys.path
from tests.sdk.test_python_sdk import test_journey as sdk_journey
from tests.support import containers
from tests.support.containers import Container, container
from tests.support.ops import JWT_SECRET

# The RabbitMQ tests: one of them restarts the machine's RabbitMQ, which every other test of
# the broker would see, so one xdist worker runs them all, in order (pytest-xdist's
# loadgroup), beside the ops suite's group.
pytestmark = pytest.mark.xdist_group("broker")

# As podman counts. 254 MB before the model landed; its runtime (onnxruntime 69 MB, numpy and
# its BLAS 56 MB once pruned, the int8 weights 22 MB, tokenizers 12 MB) makes the rest.
MAX_IMAGE_BYTES = 450 * 1000 * 1000
REDIS_URL = "redis://127.0.0.1:6379/11"  # this module's database
READY_WITHIN = 30.0  # generous: the goal is 10 s, measured and printed


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    if reason := containers.cannot_run():
        unavailable(reason)
    base = containers.debian_base()
    seconds = containers.build(base)
    print(f"\nbuilt {containers.IMAGE} on {base} in {seconds:.1f} s")
    yield containers.IMAGE
    containers.untag()


@pytest.fixture(scope="module")
def env(image: str) -> Iterator[dict[str, str]]:
    """What every role gets (an env file in compose): a fresh database, Redis, a broker."""
    if reason := rabbitmq_unreachable():
        unavailable(reason)
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=2)
    try:
        client.flushdb()
    except redis.RedisError as exc:
        unavailable(f"Redis not reachable at {REDIS_URL}: {exc.__class__.__name__}")
    with (
        throwaway_database("conduit_container", unreachable=unavailable) as database_url,
        vhost() as broker_url,
    ):
        yield {
            "DATABASE_URL": database_url,
            "JWT_SECRET_KEY": JWT_SECRET,
            "REDIS_URL": REDIS_URL,
            "CELERY_BROKER_URL": broker_url,
            "RATE_LIMIT_ENABLED": "false",
            "OUTBOX_SWEEP_SECONDS": "1",
            "HOST": "127.0.0.1",
            "WEB_CONCURRENCY": "2",
        }
    client.flushdb()
    client.close()


@pytest.fixture(scope="module")
def migrated(env: dict[str, str]) -> str:
    """The migrate role's output, run once on the module's empty database."""
    result = containers.run_once("migrate", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout + result.stderr


@dataclass
class Web:
    box: Container
    base_url: str
    seconds_to_ready: float


@pytest.fixture(scope="module")
def web(env: dict[str, str], migrated: str) -> Iterator[Web]:
    port = free_port()
    started = time.monotonic()
    with container("web", {**env, "PORT": str(port)}) as box:
        base_url = f"http://127.0.0.1:{port}"
        deadline = started + 60
        while not containers.ready(base_url):
            assert box.running() and time.monotonic() < deadline, box.logs()[-3000:]
            time.sleep(0.05)
        yield Web(box, base_url, time.monotonic() - started)


def test_image_size(image: str) -> None:
    size = containers.image_size()
    print(f"\nimage size: {size / 1e6:.0f} MB (at most {MAX_IMAGE_BYTES / 1e6:.0f} MB)")
    assert size <= MAX_IMAGE_BYTES


def test_migrate_role_brings_an_empty_database_to_head(env: dict[str, str], migrated: str) -> None:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine = create_engine(env["DATABASE_URL"])
    with engine.connect() as conn:
        version = conn.scalar(text("SELECT version_num FROM alembic_version"))
    engine.dispose()
    assert version == head, migrated


def test_web_role_serves_the_sdk_journey(web: Web) -> None:
    print(f"\nfrom `podman run` to /api/ready 200: {web.seconds_to_ready:.2f} s")
    assert web.seconds_to_ready < READY_WITHIN
    assert containers.podman("healthcheck", "run", web.box.name, check=False).returncode == 0
    sdk_journey(f"{web.base_url}/api")
    # The wheel carries the docs page (its template), not only the code.
    assert call(web.base_url, "GET", "/api/docs").status == 200


def test_runs_as_non_root_on_a_read_only_root(web: Web) -> None:
    main = int(web.box.inspect("{{.State.Pid}}"))
    for pid in {main, *children(main)}:  # gunicorn's master and workers, as the host sees them
        uids = next(
            line.split()[1:]
            for line in Path(f"/proc/{pid}/status").read_text().splitlines()
            if line.startswith("Uid:")
        )
        assert set(uids) == {"10001"}, (pid, uids)
    assert web.box.inspect("{{.HostConfig.ReadonlyRootfs}}") == "true"
    write = "import sys; open(sys.argv[1], 'w').write('x')"
    refused = web.box.exec("python", "-c", write, "/opt/venv/written")
    assert refused.returncode != 0 and "Read-only file system" in refused.stderr
    assert web.box.exec("python", "-c", write, "/tmp/written").returncode == 0  # noqa: S108


def json_lines(log: str) -> list[dict[str, Any]]:
    """Every line of a container's log as JSON (a line that is not fails the test)."""
    return [json.loads(line) for line in log.splitlines() if line.strip()]


def test_worker_role_delivers_a_notification(web: Web, env: dict[str, str]) -> None:
    def register(name: str) -> str:
        user = {"username": name, "email": f"{name}@example.com", "password": "container pw 1"}
        reply = call(web.base_url, "POST", "/api/users", json_body={"user": user})
        assert reply.status == 201, reply.body
        token: str = reply.json()["user"]["token"]
        return token

    followed = f"star{uuid.uuid4().hex[:8]}"
    token = register(followed)
    fan_token = register(f"fan{uuid.uuid4().hex[:8]}")
    follow = call(web.base_url, "POST", f"/api/profiles/{followed}/follow", token=fan_token)
    assert follow.status == 200, follow.body

    def told() -> bool:
        reply = call(web.base_url, "GET", "/api/notifications", token=token)
        return any(n["type"] == "follow" for n in reply.json()["notifications"])

    assert not told(), "the web role delivered in-process: it has a broker, the worker delivers"
    with container("worker", env) as worker:
        wait_for(told, 60, f"the follow's notification\n{worker.logs()[-3000:]}")
        logs = worker.logs()
        # Celery's own and the app's lines, as JSON, like the web role's.
        assert any(line.get("logger", "").startswith("celery") for line in json_lines(logs))
    assert json_lines(web.box.logs())


def test_podman_stop_drains_requests_in_flight(env: dict[str, str], migrated: str) -> None:
    """SIGTERM (STOPSIGNAL) to gunicorn: what it holds is answered, then it exits 0."""
    port = free_port()
    with container("web", {**env, **SLOW_HASH, "PORT": str(port)}) as box:
        wait_for(lambda: containers.ready(f"http://127.0.0.1:{port}"), 60, "the web role")

        def stop() -> None:
            containers.podman("stop", "--time", "30", box.name, timeout=60)

        in_flight, prober, signalled, gone = stop_under_load(port, stop, lambda: not box.running())
        code = box.inspect("{{.State.ExitCode}}")
        logs = box.logs()
    report("podman stop", in_flight, prober, signalled, gone)
    assert code == "0", logs[-3000:]


def test_nginx_in_front_with_the_config_the_image_renders(web: Web, env: dict[str, str]) -> None:
    """compose.yaml's nginx-conf step (`python -m deploy.nginx` in the image), then nginx on
    it in front of the web role: this machine's nginx standing in for compose's nginx image."""
    nginx = find_nginx()
    if not nginx:
        unavailable("nginx is not installed")
    port = free_port()
    run_dir = Path(tempfile.mkdtemp(prefix="conduit-container-nginx-"))
    run_dir.chmod(0o755)  # nginx's workers run as nobody
    upstream = web.base_url.removeprefix("http://")
    listen = {**env, "HOST": "127.0.0.1", "PORT": str(port)}
    rendered = containers.run_once(
        "python", "-m", "deploy.nginx", upstream, str(run_dir), env=listen
    )
    assert rendered.returncode == 0, rendered.stderr
    (run_dir / "nginx.conf").write_text(rendered.stdout)
    command = [nginx, "-p", str(run_dir), "-c", str(run_dir / "nginx.conf"), "-e", "stderr"]
    front = subprocess.Popen([*command, "-g", "daemon off;"], stderr=subprocess.DEVNULL)
    try:
        front_url = f"http://127.0.0.1:{port}"
        wait_for(lambda: containers.ready(front_url), 30, "nginx in front of the web role")
        reply = call(front_url, "GET", "/api/tags", headers={"X-Request-ID": "through-nginx-1"})
        assert reply.status == 200 and reply.headers.get("x-request-id") == "through-nginx-1"
        assert call(front_url, "GET", "/metrics").status == 404  # never at the front door
    finally:
        front.terminate()
        front.wait(30)
        shutil.rmtree(run_dir, ignore_errors=True)


def test_compose_file_is_valid_and_wires_the_topology() -> None:
    """No compose tool runs here (no Docker engine; podman-compose cannot pull the official
    images): compose.yaml is checked against the compose-spec schema, then read."""
    compose = ROOT / "compose.yaml"
    checked = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec",
         str(compose)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr
    services: dict[str, Any] = yaml.safe_load(compose.read_text())["services"]
    assert set(services) == {"nginx", "nginx-conf", "web", "worker", "migrate",
                             "postgres", "redis", "rabbitmq"}  # fmt: skip
    assert services["web"]["deploy"]["replicas"] == 2
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["migrate"] == {
            "condition": "service_completed_successfully"
        }
    for name in ("web", "worker", "migrate", "nginx-conf"):
        app = services[name]
        assert app["build"]["dockerfile"] == "Containerfile" and app["read_only"] is True
        # Secrets are interpolated from the env file, never written here.
        assert app["environment"]["JWT_SECRET_KEY"].startswith("${JWT_SECRET_KEY:?")
    assert services["nginx"]["depends_on"]["web"] == {"condition": "service_healthy"}
    assert all("healthcheck" in services[name] for name in ("web", "nginx", "postgres", "redis",
                                                           "rabbitmq"))  # fmt: skip


def test_build_context_holds_every_package() -> None:
    """The image's wheel is built from .dockerignore's allowlist: a package missing there
    would be missing from the image."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    allowed = {
        line[1:] for line in (ROOT / ".dockerignore").read_text().splitlines() if line[:1] == "!"
    }
    assert packages <= allowed, packages - allowed
