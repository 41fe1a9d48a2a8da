"""The default rate limit's budget (api/pipeline/budget.py) on a real Redis: shared by the workers, exact
for small limits, batched for large ones (within the bound the module states), and still
counting, per worker, while Redis is away."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from api.context import runtime_of
from api.pipeline.budget import Budget, batch_for, parsed
from testkit.redis_server import CACHE_REDIS_URL, shared_redis
from testkit.servers import free_port

# These modules share Redis db 12 (testkit CACHE_REDIS_URL) and flush it: one xdist worker.
pytestmark = pytest.mark.xdist_group("redis-db-12")

NOW = 1_800_000_000.0  # a fixed instant: windows are fixed minutes from the epoch


class CountingBudget(Budget):
    """A budget that counts its round trips to Redis."""

    trips = 0

    def _add(self, *args: object, **kwargs: object) -> None:
        if self.client is not None and time.monotonic() >= self.broken_until:
            self.trips += 1
        super()._add(*args, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = shared_redis()
    yield CACHE_REDIS_URL
    client.flushdb()
    client.close()


def _address() -> str:
    return f"10.0.{uuid.uuid4().int % 250}.{uuid.uuid4().int % 250}-{uuid.uuid4().hex[:6]}"


def test_a_small_limit_is_exact_across_workers(redis_url: str) -> None:
    workers = [CountingBudget(redis_url) for _ in range(3)]
    limit, address = parsed("5/minute"), _address()
    assert batch_for(limit) == 1
    answers = [workers[i % 3].hit(address, limit, NOW) for i in range(9)]
    assert answers[:5] == [None] * 5
    assert all(isinstance(a, int) and 1 <= a <= 60 for a in answers[5:]), answers


def test_a_large_limit_is_counted_in_batches_within_the_bound(redis_url: str) -> None:
    workers = [CountingBudget(redis_url) for _ in range(2)]
    limit, address = parsed("1000/minute"), _address()
    batch = batch_for(limit)
    assert batch == 10
    allowed = sum(workers[i % 2].hit(address, limit, NOW) is None for i in range(1200))
    # No more than the limit plus what each worker may hold uncounted (batch - 1 each).
    assert 1000 <= allowed <= 1000 + 2 * (batch - 1), allowed
    trips = sum(w.trips for w in workers)
    # One round trip per batch while within the budget; once a worker knows the budget is
    # spent it refuses without asking.
    assert trips <= 1000 // batch + 2 * batch, trips
    key = f"conduit:budget:default:{limit}:{int(NOW // 60)}:{address}"
    total = redis.Redis.from_url(redis_url, decode_responses=True).get(key)
    assert isinstance(total, str) and 1000 <= int(total) <= 1200


def test_a_new_window_starts_a_new_budget(redis_url: str) -> None:
    budget, limit, address = Budget(redis_url), parsed("2/minute"), _address()
    assert [budget.hit(address, limit, NOW) for _ in range(3)][2] is not None
    assert budget.hit(address, limit, NOW + 60) is None
    # A refusal says when the window renews: half a second before it does, one second.
    late, other = (NOW // 60) * 60 + 59.5, _address()
    assert [budget.hit(other, limit, late) for _ in range(3)] == [None, None, 1]


def test_addresses_have_budgets_of_their_own(redis_url: str) -> None:
    budget, limit = Budget(redis_url), parsed("1/minute")
    first, second = _address(), _address()
    assert budget.hit(first, limit, NOW) is None
    assert budget.hit(first, limit, NOW) is not None
    assert budget.hit(second, limit, NOW) is None


def test_without_redis_each_worker_counts_exactly_in_memory() -> None:
    budget, limit, address = Budget(None), parsed("300/minute"), _address()
    allowed = sum(budget.hit(address, limit, NOW) is None for _ in range(400))
    assert allowed == 300


def test_redis_away_lets_requests_through_and_counts_them_locally() -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"
    budget, limit, address = CountingBudget(dead), parsed("3/minute"), _address()
    answers = [budget.hit(address, limit, NOW) for _ in range(5)]
    assert answers[:3] == [None] * 3 and None not in answers[3:]
    assert budget.trips == 1  # the failure opened the breaker: no more attempts for a while


def test_the_app_refuses_with_a_429_once_the_budget_is_spent(sqlite_url: str) -> None:
    from api import create_app
    from testkit.settings import make_settings
    from tests.factories import errors_of

    app = create_app(
        make_settings(sqlite_url, rate_limit_enabled=True, rate_limit_default="4/minute")
    )
    try:
        client = app.test_client()
        statuses = [client.get("/api/tags").status_code for _ in range(5)]
        assert statuses == [200, 200, 200, 200, 429]
        refused = client.get("/api/articles", headers={"X-Request-ID": "refused-1"})
        assert refused.status_code == 429
        assert refused.headers["X-Request-ID"] == "refused-1"  # traced like any answer
        assert errors_of(refused) == {"rate_limit": ["exceeded: at most 4 per 1 minute"]}
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        # Probes are never limited; login has a limit of its own, not this one.
        assert client.get("/api/health").status_code == 200
        body = {"user": {"email": "nobody@example.com", "password": "whatever-pw"}}
        assert client.post("/api/users/login", json=body).status_code == 401
    finally:
        runtime_of(app).dispose()


def test_batches_grow_with_the_limit_and_stop_at_32() -> None:
    sizes = {text: batch_for(parsed(text)) for text in ("10/minute", "1200/minute", "10000/hour")}
    assert sizes == {"10/minute": 1, "1200/minute": 12, "10000/hour": 32}
