"""Running wrk with bench/wrk.lua and reading its result line."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

SCRIPT = Path(__file__).with_name("wrk.lua")
RESULT_PREFIX = "BENCH_RESULT "
THREADS = 2
CONNECTIONS = 16


@dataclass(frozen=True, slots=True)
class Request:
    """One request line for wrk.lua; `{n}` in the body becomes a unique counter."""

    method: str
    path: str
    token: str = ""
    body: str = ""

    def line(self) -> str:
        for part in (self.method, self.path, self.token, self.body):
            if "\t" in part or "\n" in part:
                raise ValueError(f"tabs and newlines cannot go through wrk.lua: {part!r}")
        return f"{self.method}\t{self.path}\t{self.token}\t{self.body}"


@dataclass(frozen=True, slots=True)
class Result:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float
    mean_ms: float
    non2xx: int
    socket_errors: int
    bytes_per_response: float

    def to_dict(self) -> dict[str, float | int]:
        return asdict(self)


def available() -> bool:
    return shutil.which("wrk") is not None


def write_requests(path: Path, requests: Iterable[Request]) -> Path:
    path.write_text("".join(r.line() + "\n" for r in requests))
    return path


def parse(output: str) -> Result:
    """The Result of wrk's stdout, from the line wrk.lua's done() prints."""
    for line in output.splitlines():
        if line.startswith(RESULT_PREFIX):
            data = json.loads(line[len(RESULT_PREFIX) :])
            break
    else:
        raise ValueError(f"no {RESULT_PREFIX.strip()} line in wrk output:\n{output}")
    seconds = data["duration_us"] / 1e6
    latency = data["latency_us"]
    errors = data["errors"]
    count = data["requests"]
    return Result(
        requests=count,
        seconds=round(seconds, 3),
        rps=round(count / seconds, 1) if seconds else 0.0,
        p50_ms=latency["p50"] / 1000,
        p90_ms=latency["p90"] / 1000,
        p99_ms=latency["p99"] / 1000,
        max_ms=latency["max"] / 1000,
        mean_ms=round(latency["mean"] / 1000, 3),
        non2xx=data["non2xx"],
        socket_errors=errors["connect"] + errors["read"] + errors["write"] + errors["timeout"],
        bytes_per_response=round(data["bytes"] / count, 1) if count else 0.0,
    )


def run(base_url: str, requests_file: Path, duration: float) -> Result:
    """wrk with our thread and connection counts for `duration` seconds."""
    command = [
        "wrk",
        f"--threads={THREADS}",
        f"--connections={CONNECTIONS}",
        f"--duration={max(1, round(duration))}s",
        "--timeout=10s",
        f"--script={SCRIPT}",
        base_url,
        "--",
        str(requests_file),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return parse(done.stdout)
