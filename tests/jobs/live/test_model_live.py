"""The model as production serves it: gunicorn with 4 workers, a Celery worker on RabbitMQ.

Each web worker loads the model once, after fork (the metric counts the loads); a new
article is embedded by the Celery worker and found by meaning and listed as related, with no
inference in the request that wrote it; without the model, its operations answer 503 and the
rest of the API is unchanged.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest

from testkit.http import call
from testkit.servers import gunicorn_server
from testkit.workers import Worker, wait_for

# The RabbitMQ tests: one of them restarts the machine's RabbitMQ, which every other test of
# the broker would see, so one xdist worker runs them all, in order (pytest-xdist's
# loadgroup), beside the ops suite's group.
pytestmark = pytest.mark.xdist_group("broker")

WORKERS = 4
LOADS = re.compile(r'^conduit_model_loads_total\{result="ok"\} (\S+)$', re.M)


def loads(base_url: str) -> float:
    found = LOADS.search(call(base_url, "GET", "/metrics").body.decode())
    return float(found.group(1)) if found else 0.0


def register(base_url: str) -> str:
    name = f"m{uuid.uuid4().hex[:10]}"
    user = {"username": name, "email": f"{name}@example.com", "password": "model-test-pw"}
    reply = call(base_url, "POST", "/api/users", json_body={"user": user})
    assert reply.status == 201, reply.body
    token: str = reply.json()["user"]["token"]
    return token


def publish(base_url: str, token: str, title: str, body: str) -> str:
    article = {"title": title, "description": title, "body": body}
    reply = call(base_url, "POST", "/api/articles", json_body={"article": article}, token=token)
    assert reply.status == 201, reply.body
    slug: str = reply.json()["article"]["slug"]
    return slug


def slugs(reply: Any) -> list[str]:
    assert reply.status == 200, reply.body
    return [a["slug"] for a in reply.json()["articles"]]


def test_one_load_per_worker_and_new_articles_found_through_celery(
    app_env: dict[str, str], worker: Callable[..., Worker]
) -> None:
    jobs = worker()
    jobs.start()
    env = {**app_env, "MODEL_PRELOAD": "true", "METRICS_PUBLIC": "true"}
    with gunicorn_server(app_env["DATABASE_URL"], workers=WORKERS, env=env) as server:
        base = server.base_url
        wait_for(lambda: loads(base) >= WORKERS, 120, "every worker's model load")
        token = register(base)
        started = time.monotonic()
        dragons = publish(base, token, "Dragons over the valley", "A dragon flies at dawn.")
        wyrms = publish(base, token, "Caring for young wyrms", "Feed the hatchling dragon fish.")
        baking = publish(base, token, "Sourdough at home", "Knead, rise, bake the bread.")

        def found() -> bool:
            related = slugs(call(base, "GET", f"/api/articles/{dragons}/related?limit=1"))
            near = slugs(call(base, "GET", "/api/articles?q=winged+reptile+flying&limit=2"))
            return related == [wyrms] and set(near) == {dragons, wyrms}

        wait_for(found, 60, "the new articles, embedded by the Celery worker")
        print(f"\nfound by meaning and related {time.monotonic() - started:.1f} s after publishing")
        assert baking not in slugs(call(base, "GET", "/api/articles?q=winged+reptile&limit=2"))
        ready = call(base, "GET", "/api/ready").json()["model"]
        assert ready["name"] == "all-MiniLM-L6-v2" and ready["status"] in {"ok", "idle"}
        # Still one load per worker: no request loaded the model again.
        assert loads(base) == WORKERS
    jobs.stop()


def test_without_the_model_only_its_operations_fail(app_env: dict[str, str]) -> None:
    env = {**app_env, "MODEL_DIR": "/nonexistent/model", "MODEL_PRELOAD": "true"}
    env.pop("CELERY_BROKER_URL")
    with gunicorn_server(app_env["DATABASE_URL"], workers=2, env=env) as server:
        base = server.base_url
        token = register(base)
        slug = publish(base, token, "Still writable", "The API works without its model.")
        draft = {"article": {"title": "t", "description": "d", "body": "b"}}
        suggest = call(base, "POST", "/api/tags/suggestions", json_body=draft, token=token)
        assert suggest.status == 503 and suggest.json() == {"errors": {"model": ["is unavailable"]}}
        related = call(base, "GET", f"/api/articles/{slug}/related")
        assert related.status == 503
        assert slugs(call(base, "GET", "/api/articles?q=writable")) == [slug]  # words alone
        ready = call(base, "GET", "/api/ready")
        assert ready.status == 200 and ready.json()["model"]["status"] == "degraded"
        assert call(base, "GET", f"/api/articles/{slug}").status == 200
