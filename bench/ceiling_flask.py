"""Ceiling (c): bare Flask, the captured page of our list response from one view.

`gunicorn bench.ceiling_flask:app` with BENCH_PAGE_FILE naming the captured bytes. Whatever
the path, one Flask view answers those bytes: gunicorn, HTTP, the socket and Flask's own
routing, request and response objects, with no extension, hook or query. Reads whose work is
small (one article, its comments, the tags) are compared with this floor.
"""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, Response

PAGE = Path(os.environ["BENCH_PAGE_FILE"]).read_bytes()
CONTENT_TYPE = "application/json; charset=utf-8"

app = Flask(__name__)


@app.route("/", defaults={"path": ""})
@app.route("/<path:path>")
def page(path: str) -> Response:
    return Response(PAGE, content_type=CONTENT_TYPE)
