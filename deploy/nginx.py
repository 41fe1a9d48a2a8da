"""nginx's side of the production topology: the options, and the config rendered from them.

deploy/nginx.conf.template holds the config; `nginx_conf` fills it in. What nginx must agree on
with the app (its body limit, how many proxies it trusts, its error bodies and headers) is
read from the app itself, in a child process (`app_facts`), so that the launcher never imports
the app and the two never drift apart.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.settings import ServerSettings

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
APP = "api.wsgi:app"
# nginx refuses bodies only this far past the app's limit: the app answers 413 itself below.
BODY_MARGIN = 64 * 1024
# nginx codes answered with another status: 494 is its "request header too large".
NGINX_ALIASES = {494: 431}
# What nginx can answer by itself (the rest of PROTOCOL_ERRORS comes from gunicorn only).
NGINX_ERRORS = (400, 404, 408, 411, 413, 414, 431, 500, 501, 502, 503, 504, 505)
ERROR_URI = "/_conduit/error/"  # internal: a client asking for it gets our 404
PROBE = "from deploy.nginx import probe; probe()"


@dataclass(frozen=True)
class Options:
    """What the topology is started with; `from_environment` reads it as `make serve-proxy` does."""

    host: str = "127.0.0.1"
    port: int = 8000
    client_timeout: int = 10
    gunicorn_timeout: int = 30
    graceful_timeout: int = 20
    # nginx's wait for gunicorn; None: gunicorn's timeout + 5 s, so its own JSON 504 comes first.
    upstream_timeout: int | None = None
    worker_processes: str = "auto"
    worker_connections: int = 1024
    nginx: str = ""
    app: str = APP

    @classmethod
    def from_environment(cls, environ: Mapping[str, str], **overrides: Any) -> Options:
        """The options as the server settings (core/settings.py) read them from `environ`."""
        server = ServerSettings.from_environ(environ)
        values: dict[str, Any] = {
            "host": server.host,
            "port": server.port,
            "client_timeout": server.nginx_client_timeout,
            "gunicorn_timeout": server.gunicorn_timeout,
            "graceful_timeout": server.gunicorn_graceful_timeout,
            "worker_processes": server.nginx_worker_processes,
            "worker_connections": server.nginx_worker_connections,
            "nginx": server.nginx or find_nginx(),
        }
        return cls(**{**values, **overrides})


@dataclass(frozen=True)
class AppFacts:
    """What nginx must agree with the app on: its settings and its error bodies."""

    max_content_length: int
    proxy_count: int
    access_log: bool
    error_pages: str


def probe() -> None:
    """Run in a child (`PROBE`): the app's settings, read and validated as the app will."""
    from core.settings import Settings

    settings = Settings()
    facts = AppFacts(
        max_content_length=settings.max_content_length,
        proxy_count=max(1, settings.proxy_count),
        access_log=settings.access_log,
        error_pages=error_pages(settings.max_content_length),
    )
    print(json.dumps(facts.__dict__))


def app_facts(environ: Mapping[str, str]) -> AppFacts:
    """`probe` in a child process with the environment gunicorn will get (`.env` counts too).

    A child: the launcher stays small (it never imports the app), and a bad setting stops
    us before anything is started.
    """
    found = subprocess.run(  # noqa: S603 - our interpreter, our code
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=dict(environ),
        capture_output=True,
        text=True,
        check=False,
    )
    if found.returncode != 0:
        raise RuntimeError(f"could not read the app's settings:\n{found.stderr.strip()}")
    return AppFacts(**json.loads(found.stdout.strip().splitlines()[-1]))


def find_nginx() -> str:
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)), ""
    )
    return found


def nginx_string(value: str) -> str:
    """A single-quoted nginx string."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def error_pages(max_content_length: int) -> str:
    """error_page directives and the internal locations they name: JSON with our headers.

    Internal URIs, not named locations: nginx cannot redirect a request whose request line
    it could not parse to a named location (it has no URI), but it can to a URI.
    """
    from deploy.gunicorn_worker import RETRY_AFTER, error_body, security_headers

    indent = " " * 8
    lines = []
    for status in NGINX_ERRORS:
        lines.append(f"{indent}error_page {status} {ERROR_URI}{status};")
    for code, status in NGINX_ALIASES.items():
        lines.append(f"{indent}error_page {code} ={status} {ERROR_URI}{status};")
    for status in NGINX_ERRORS:
        headers = {**security_headers(), "X-Request-ID": "$conduit_request_id"}
        if status in RETRY_AFTER:
            headers["Retry-After"] = RETRY_AFTER[status]
        body = error_body(status, max_content_length).decode()
        lines.append(f"{indent}location = {ERROR_URI}{status} {{")
        lines.append(f"{indent}    internal;")
        for name, value in headers.items():
            quoted = value if value.startswith("$") else f'"{value}"'
            lines.append(f"{indent}    add_header {name} {quoted} always;")
        lines.append(f"{indent}    return {status} {nginx_string(body)};")
        lines.append(f"{indent}}}")
    return "\n".join(lines)


def listen_address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def render(template: str, values: Mapping[str, str]) -> str:
    """Replace every @NAME@; a name without a value is an error, not a silent blank."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise ValueError(f"{TEMPLATE.name}: no value for @{name}@")
        return values[name]

    return re.sub(r"@([A-Z_]+)@", value, template)


def nginx_conf(
    options: Options, facts: AppFacts, *, run_dir: Path, upstream: str, user: str | None = None
) -> str:
    values = {
        "WORKER_PROCESSES": options.worker_processes,
        "USER": f"user {user};" if user else "",
        "RUN_DIR": str(run_dir),
        "WORKER_CONNECTIONS": str(options.worker_connections),
        "ACCESS_LOG": "/dev/stderr conduit" if facts.access_log else "off",
        "CLIENT_TIMEOUT": str(options.client_timeout),
        "CLIENT_MAX_BODY_SIZE": str(facts.max_content_length + BODY_MARGIN),
        "UPSTREAM": upstream,
        "LISTEN": listen_address(options.host, options.port),
        "ERROR_PAGES": facts.error_pages,
        "UPSTREAM_TIMEOUT": str(options.upstream_timeout or options.gunicorn_timeout + 5),
        "SHUTDOWN_TIMEOUT": str(options.graceful_timeout),
    }
    return render(TEMPLATE.read_text(), values)


def main(argv: list[str] | None = None) -> int:
    """`python -m deploy.nginx UPSTREAM RUN_DIR`: print the config for an nginx started elsewhere.

    compose.yaml renders its nginx's config so, in the app's image, from the app's environment:
    HOST and PORT are where nginx listens, UPSTREAM (`web:8000`) what it proxies to, RUN_DIR
    where it keeps its pid and buffers.
    """
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(f"usage: python -m deploy.nginx UPSTREAM RUN_DIR\n{main.__doc__}", file=sys.stderr)
        return 2
    upstream, run_dir = args
    options = Options.from_environment(os.environ)
    print(nginx_conf(options, app_facts(os.environ), run_dir=Path(run_dir), upstream=upstream))
    return 0


if __name__ == "__main__":
    sys.exit(main())
