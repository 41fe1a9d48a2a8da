"""`make serve-proxy`: nginx on HOST:PORT in front of gunicorn on a private unix socket.

    python -m deploy.serve      # after `make migrate`; stop with SIGTERM or SIGINT (Ctrl-C)

Everything lives in one private temporary directory (the rendered nginx.conf, gunicorn's
socket, the workers' metrics, nginx's pid and buffers), removed when the launcher exits. The
processes run in sessions of their own, so a terminal's Ctrl-C reaches only the launcher, which
stops them in order: nginx first, gracefully (it stops accepting, then finishes every request
it holds, which gunicorn is still there to answer), then gunicorn (which drains its queue).
A second signal stops both at once.

Read from the environment: HOST, PORT (nginx's address); the app's settings (through
core.settings, so `.env` counts too: MAX_CONTENT_LENGTH sizes nginx's body limit, PROXY_COUNT
is at least 1, ACCESS_LOG turns nginx's JSON access log on or off); WEB_CONCURRENCY, GUNICORN_*
and METRICS_BIND (gunicorn, deploy/gunicorn_conf.py); NGINX (the binary), NGINX_WORKER_PROCESSES
(`auto`), NGINX_WORKER_CONNECTIONS (1024), NGINX_CLIENT_TIMEOUT (10 s: a client's headers must
arrive within it, its body may pause that long). Every log line goes to stderr.
"""

from __future__ import annotations

import contextlib
import ctypes
import grp
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from core.settings import environment
from deploy.nginx import ROOT, AppFacts, Options, app_facts, listen_address, nginx_conf

GUNICORN_CONF = ROOT / "deploy" / "gunicorn_conf.py"
START_TIMEOUT = 60.0
PR_SET_PDEATHSIG = 1


def say(message: str, level: str = "info", **fields: Any) -> None:
    """One JSON line on stderr, like every other log line of the stack."""
    entry = {
        "time": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "level": level,
        "logger": "deploy.serve",
        "message": message,
        **fields,
    }
    print(json.dumps(entry), file=sys.stderr, flush=True)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    """Should the launcher be killed outright, its children get SIGTERM (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def _http_ok(connect: socket.socket, timeout: float = 2.0) -> bool:
    """GET /api/health on a connected socket answers 200."""
    with connect as sock:
        sock.settimeout(timeout)
        sock.sendall(b"GET /api/health HTTP/1.0\r\nHost: localhost\r\n\r\n")
        head = sock.recv(64)
    return head.startswith(b"HTTP/1.1 200") or head.startswith(b"HTTP/1.0 200")


def _unix(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        raise
    return sock


def _listening(address: tuple[str, int]) -> bool:
    with socket.create_connection(address, timeout=2):
        return True


def _loopback(host: str) -> str:
    return {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(host, host)  # noqa: S104


@dataclass
class Stack:
    """gunicorn and nginx, started together and stopped in order (a context manager)."""

    options: Options
    env: Mapping[str, str] = field(default_factory=environment)
    stderr: IO[Any] | int | None = None
    die_with_parent: bool = False
    # Proxy to this nginx upstream (`unix:/path`, `host:port`) instead of starting gunicorn.
    upstream: str | None = None
    run_dir: Path = field(init=False)
    gunicorn: subprocess.Popen[bytes] | None = field(init=False, default=None)
    nginx: subprocess.Popen[bytes] | None = field(init=False, default=None)
    _hurry: threading.Event = field(init=False, default_factory=threading.Event)

    @property
    def url(self) -> str:
        host = _loopback(self.options.host)
        return f"http://{listen_address(host, self.options.port)}"

    @property
    def socket_path(self) -> Path:
        return self.run_dir / "gunicorn.sock"

    @property
    def conf_path(self) -> Path:
        return self.run_dir / "nginx.conf"

    def __enter__(self) -> Stack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        _type: type[BaseException] | None,
        _exc: BaseException | None,
        _tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        if not self.options.nginx:
            raise RuntimeError("nginx not found: install it, or name it in NGINX")
        facts = app_facts(self.env)
        self.run_dir = Path(tempfile.mkdtemp(prefix="conduit-proxy-"))
        user = self._unprivileged_workers()
        upstream = self.upstream or f"unix:{self.socket_path}"
        self.conf_path.write_text(
            nginx_conf(self.options, facts, run_dir=self.run_dir, upstream=upstream, user=user)
        )
        self._nginx("-t", "-q")  # a broken config stops us before anything runs
        if self.upstream is None:
            self._start_gunicorn(facts)
        self.nginx = self._spawn(self._nginx_command("-g", "daemon off;"), dict(self.env))
        address = (_loopback(self.options.host), self.options.port)
        if self.upstream is None:
            self._wait_until(
                lambda: _http_ok(socket.create_connection(address, timeout=2)), self.nginx, "nginx"
            )
        else:  # nothing of ours behind it: listening is all we can check
            self._wait_until(lambda: _listening(address), self.nginx, "nginx")
        say("serving", url=self.url, upstream=upstream, run_dir=str(self.run_dir))

    def _start_gunicorn(self, facts: AppFacts) -> None:
        command = [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), self.options.app]
        self.gunicorn = self._spawn(
            command,
            {
                **self.env,
                "GUNICORN_BIND": f"unix:{self.socket_path}",
                "PROXY_COUNT": str(facts.proxy_count),
                # In our directory, so that it goes with it whatever becomes of gunicorn.
                "PROMETHEUS_MULTIPROC_DIR": str(self.run_dir / "metrics"),
                "GUNICORN_TIMEOUT": str(self.options.gunicorn_timeout),
                "GUNICORN_GRACEFUL_TIMEOUT": str(self.options.graceful_timeout),
            },
        )
        self._wait_until(lambda: _http_ok(_unix(self.socket_path)), self.gunicorn, "gunicorn")

    def failed(self) -> str | None:
        """The name of a process that has exited on its own, if any."""
        for name, process in (("gunicorn", self.gunicorn), ("nginx", self.nginx)):
            if process is not None and process.poll() is not None:
                return f"{name} exited with {process.returncode}"
        return None

    def hurry(self) -> None:
        """Stop now: no more waiting for requests to finish."""
        self._hurry.set()

    def stop(self) -> None:
        """nginx first (graceful: it finishes what it holds), then gunicorn, then the files."""
        try:
            if self.nginx is not None:
                self._stop(self.nginx, signal.SIGQUIT, self.options.graceful_timeout + 5)
            if self.gunicorn is not None:
                self._stop(self.gunicorn, signal.SIGTERM, self.options.graceful_timeout + 10)
        finally:
            if hasattr(self, "run_dir"):
                shutil.rmtree(self.run_dir, ignore_errors=True)

    def _stop(self, process: subprocess.Popen[bytes], sig: signal.Signals, wait: float) -> None:
        if process.poll() is None:
            process.send_signal(sig)
            deadline = time.monotonic() + wait
            while process.poll() is None and time.monotonic() < deadline:
                if self._hurry.wait(0.05):
                    break
        if process.poll() is None:  # not reaped yet: its pid (and group id) are still its own
            say("killing", level="warning", pid=process.pid)
            # Its whole group: a master killed alone would leave its workers behind.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def _nginx_command(self, *args: str) -> list[str]:
        return [
            self.options.nginx,
            "-p",
            str(self.run_dir),
            "-c",
            str(self.conf_path),
            "-e",
            "stderr",
            *args,
        ]

    def _nginx(self, *args: str) -> None:
        check = subprocess.run(  # noqa: S603 - the nginx binary, our config
            self._nginx_command(*args), capture_output=True, text=True, check=False
        )
        if check.returncode != 0:
            raise RuntimeError(f"nginx refused {self.conf_path}:\n{check.stderr}")

    def _spawn(self, command: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        return subprocess.Popen(  # noqa: S603 - our own commands
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self.stderr if self.stderr is not None else sys.stderr,
            stderr=self.stderr,
            start_new_session=True,  # signals reach it from us only
            preexec_fn=_die_with_parent if self.die_with_parent else None,
        )

    def _wait_until(self, check: Any, process: subprocess.Popen[bytes], name: str) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode} while starting")
            if self._hurry.is_set():
                raise RuntimeError(f"stopped while {name} was starting")
            try:
                if check():
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not answer within {START_TIMEOUT}s")

    def _unprivileged_workers(self) -> str | None:
        """As root, nginx's workers run as nobody: let them reach the socket and nothing else."""
        if os.geteuid() != 0:
            return None
        nobody = pwd.getpwnam("nobody")
        group = grp.getgrgid(nobody.pw_gid).gr_name
        os.chown(self.run_dir, 0, nobody.pw_gid)
        self.run_dir.chmod(0o710)  # its group may enter (to the socket); nobody may list it
        return f"nobody {group}"


def main() -> int:
    signals: list[int] = []
    stack: Stack | None = None

    def on_signal(signum: int, _frame: object) -> None:
        signals.append(signum)
        if len(signals) > 1 and stack is not None:
            stack.hurry()

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, on_signal)
    try:
        options = Options.from_environment(environment())
    except (RuntimeError, ValueError) as error:
        say(str(error), level="error")
        return 1
    stack = Stack(options, die_with_parent=True)
    try:
        with stack:
            while not signals:
                problem = stack.failed()
                if problem:
                    say(problem, level="error")
                    return 1
                time.sleep(0.2)
            say("stopping", signal=signal.Signals(signals[0]).name)
    except (RuntimeError, ValueError, OSError) as error:
        say(str(error), level="error")
        return 1
    say("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
