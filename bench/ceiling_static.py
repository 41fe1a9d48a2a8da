"""Ceiling (a): the cheapest possible WSGI app, serving a captured page of our list response.

`gunicorn bench.ceiling_static:app` with BENCH_PAGE_FILE naming the captured bytes. Whatever
the path, it answers those bytes: the cost of gunicorn, HTTP and the socket, and nothing else.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

PAGE = Path(os.environ["BENCH_PAGE_FILE"]).read_bytes()
HEADERS = [
    ("Content-Type", "application/json; charset=utf-8"),
    ("Content-Length", str(len(PAGE))),
]


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    start_response("200 OK", HEADERS)
    return [PAGE]
