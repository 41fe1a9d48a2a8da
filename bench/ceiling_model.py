"""Ceiling (d): the bare model, embedding each posted draft in one process per worker.

`gunicorn bench.ceiling_model:app` (2 sync workers, like the other ceilings): a plain WSGI
function reads the draft posted to it (CreateArticle's shape, as SuggestTags takes it), joins
its parts as the endpoint does (`ml.suggest.article_text`) and embeds it with the same
`Embedder`, single-threaded, loaded once per worker after the fork (gunicorn imports this
module in each worker), configured as the app serves it, heap trim after each call included
(ml.model.trim_heap: without it a worker's RSS passes the 150 MB the model may add; it costs
20-35% on 256-token texts). No Flask, no database, no index, no cache: what inference alone
costs, served over the same HTTP. SuggestTags is compared with this ceiling.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from ml.threads import pin

pin()  # before numpy: one thread per worker, as deploy/gunicorn_conf.py does

from ml.model import Embedder  # noqa: E402 (after the pin, on purpose)
from ml.suggest import article_text  # noqa: E402

EMBEDDER = Embedder()
EMBEDDER.load()

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    length = int(environ.get("CONTENT_LENGTH") or 0)
    answer: dict[str, Any] = {"model": EMBEDDER.version}
    if length:
        draft = json.loads(environ["wsgi.input"].read(length))["article"]
        text = article_text(draft["title"], draft["description"], draft["body"])
        answer["norm"] = float((EMBEDDER.embed([text])[0] ** 2).sum())
    body = json.dumps(answer).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
