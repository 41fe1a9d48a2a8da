"""The ceiling servers under gunicorn, and the processes (and memory) of any gunicorn we run."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from testkit.servers import Server, free_port, stop
from testkit.settings import ROOT

CEILING_WORKERS = 2


@contextmanager
def ceiling(app: str, env: dict[str, str], log: Path, probe: str = "/") -> Iterator[str]:
    """gunicorn with 2 sync workers serving `app` (e.g. bench.ceiling_static:app)."""
    port = free_port()
    with log.open("ab") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                f"--workers={CEILING_WORKERS}",
                "--worker-class=sync",
                f"--bind=127.0.0.1:{port}",
                app,
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=log_file,
        )
    base_url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(base_url + probe, process)
        yield base_url
    finally:
        stop(process, 20)


def _wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited with {process.returncode}: see its log")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def _status(pid: int) -> dict[str, str]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        fields[key] = value.strip()
    return fields


def worker_rss(server: Server) -> dict[int, int]:
    """{worker pid: VmRSS in KiB} of a running gunicorn's workers."""
    return {pid: rss_kib(pid) for pid in sorted(server.worker_pids())}


def rss_kib(pid: int) -> int:
    return int(_status(pid)["VmRSS"].split()[0])


def _cpu_times() -> tuple[int, int]:
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return idle, sum(fields[:8])


def idle_cpu(seconds: float = 0.5) -> float:
    """The machine's idle CPU fraction over `seconds`: low means someone else is using it."""
    idle_before, total_before = _cpu_times()
    time.sleep(seconds)
    idle_after, total_after = _cpu_times()
    return (idle_after - idle_before) / max(1, total_after - total_before)


def settled_idle_cpu(wanted: float, patience: float = 10.0) -> float:
    """The idle CPU fraction once it reaches `wanted`, or after `patience` seconds the last
    reading: what the previous scenario left running (a server still draining the queue of
    requests wrk had in flight) finishes before the next measurement starts."""
    deadline = time.monotonic() + patience
    idle = idle_cpu()
    while idle < wanted and time.monotonic() < deadline:
        idle = idle_cpu()
    return idle
