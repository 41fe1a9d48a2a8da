"""`python -m bench.run`: seed Conduit through its API, load it with wrk, compare with ceilings.

Phases: a fresh PostgreSQL database; our gunicorn (testkit.servers, 2 workers) with the
read cache off; a dataset created through the API, then what production's background work
would have done (the workers fold the article counters' deltas, autovacuum runs VACUUM
ANALYZE; neither runs here); the ceiling servers measured on the same machine and data (static
WSGI, bare Flask, raw SQL, the bare model, the raw-SQL write floor); every scenario under wrk
(2 threads, 16 connections); then a second gunicorn with the read cache on (REDIS_URL) for the
read scenarios; worker RSS; the SQL each scenario runs; last, the anonymous list on four
database topologies of private servers (bench/topologies.py: direct, a streaming replica,
PgBouncer in transaction and in session pooling), skipped with the reason where they cannot
run. The report goes to stdout and to bench/results/<timestamp>.json.
"""

from __future__ import annotations

import argparse
import json
import secrets
import socket
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import redis
from sqlalchemy import make_url

from bench import report, seed, servers, statements, topologies, wrk
from bench.report import Ceiling
from bench.wrk import Request, Result
from testkit import workers
from testkit.database import throwaway_database
from testkit.servers import gunicorn_server

RESULTS_DIR = Path(__file__).with_name("results")
LIST_PATH = "/api/articles?limit=20"
SUGGEST_PATH = "/api/tags/suggestions"
# Different drafts for SuggestTags: more than a run asks for (~30/s for 10 s, after a warm-up
# that takes them from the other end), so no answer comes from the embedding cache.
DRAFTS = 2000
POPULAR_QUERIES = 200  # the search scenario's; the others (~1,300) are all different
# Idle CPU below this just before a measurement (after waiting up to 10 s for the previous
# scenario's leftovers) means another workload shares the machine.
BUSY_BELOW = 0.8


class Progress:
    """One line per phase: time since start, the phase, and how long it took."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.timings: dict[str, float] = {}

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        began = time.monotonic()
        self.say(f"{name} ...")
        yield
        self.timings[name] = round(time.monotonic() - began, 2)
        self.say(f"{name}: done in {self.timings[name]:.1f}s")

    def say(self, message: str) -> None:
        print(f"[{time.monotonic() - self.start:7.1f}s] {message}", flush=True)


def draft_requests(count: int, tokens: list[str], path: str = SUGGEST_PATH) -> list[Request]:
    """SuggestTags' requests (and the bare-model ceiling's): `count` different 1 KB drafts."""
    return [
        Request("POST", path, token=tokens[i % len(tokens)], body=json.dumps({"article": d}))
        for i, d in enumerate(seed.drafts(count))
    ]


def scenario_requests(data: seed.Dataset, drafts: int) -> dict[str, list[Request]]:
    """The requests each scenario cycles through, keyed like report.SCENARIOS."""
    tokens = [u["token"] for u in data.users]
    searches = [
        Request("GET", f"/api/articles?q={quote(terms)}&limit=20") for terms in seed.search_terms()
    ]
    new_article = {
        "article": {
            "title": "Benchmark article {n}",
            "description": seed.LOREM[:120],
            "body": "\n\n".join([seed.LOREM] * 4),
            "tagList": data.tags[:2],
        }
    }
    return {
        "tags": [Request("GET", "/api/tags")],
        "list anonymous": [Request("GET", LIST_PATH)],
        "list authenticated": [Request("GET", LIST_PATH, token=t) for t in tokens],
        "list by tag": [
            Request("GET", f"/api/articles?tag={quote(tag)}&limit=20") for tag in data.tags
        ],
        "feed": [Request("GET", "/api/articles/feed?limit=20", token=t) for t in data.followers],
        "single article": [Request("GET", f"/api/articles/{slug}") for slug in data.slugs],
        "comments": [Request("GET", f"/api/articles/{slug}/comments") for slug in data.commented],
        "suggest tags": draft_requests(drafts, tokens),
        "related": [Request("GET", f"/api/articles/{slug}/related") for slug in data.slugs],
        "search": searches[:POPULAR_QUERIES],
        "search, new queries": searches[POPULAR_QUERIES:],
        "login": [
            Request(
                "POST",
                "/api/users/login",
                body=json.dumps({"user": {"email": u["email"], "password": seed.PASSWORD}}),
            )
            for u in data.users
        ],
        # One author from every connection (their own row and the same two tags for all),
        # then 16 authors (the same tags).
        "create article": [
            Request("POST", "/api/articles", token=tokens[0], body=json.dumps(new_article))
        ],
        "create article, 16 authors": [
            Request("POST", "/api/articles", token=t, body=json.dumps(new_article))
            for t in tokens[:16]
        ],
    }


ML_SCENARIOS = {"suggest tags", "related", "search", "search, new queries"}


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=30) as response:
        body: bytes = response.read()
        return body


@contextmanager
def _broker() -> Iterator[str | None]:
    """A RabbitMQ vhost of the run's own (deleted afterwards), or None without RabbitMQ."""
    if workers.rabbitmq_unreachable() is not None:
        yield None
        return
    with workers.vhost() as url:
        yield url


def default_redis() -> str | None:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            if sock.recv(16).startswith(b"+PONG"):
                return "redis://127.0.0.1:6379/15"
    except OSError:
        pass
    return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="tiny dataset, 2 s per scenario: tests the harness"
    )
    parser.add_argument("--duration", type=int, help="seconds per scenario (default 10; quick 2)")
    parser.add_argument("--warmup", type=int, default=1, help="seconds of unmeasured load first")
    parser.add_argument(
        "--only", action="append", metavar="SCENARIO", help="run only these scenarios"
    )
    parser.add_argument(
        "--redis-url",
        default=default_redis(),
        help="rate-limit storage, the embedding cache and, for the cached run, the read cache"
        " (default: Redis db 15 on 127.0.0.1 when up; emptied first; without Redis there is no"
        " cached run)",
    )
    parser.add_argument(
        "--topologies",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="last, the anonymous list on four database topologies of private servers"
        " (`make bench-topologies`: direct, a streaming replica, PgBouncer in transaction and"
        " in session pooling); skipped with the reason where they cannot run (not root, no"
        " pgbouncer or initdb)",
    )
    parser.add_argument("--results", type=Path, default=RESULTS_DIR, help="where the JSON goes")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not wrk.available():
        print(
            "make bench needs wrk, which is not installed: `apt-get install wrk` (Debian, "
            "Ubuntu), `brew install wrk` (macOS)",
            file=sys.stderr,
        )
        return 2
    size = seed.QUICK if args.quick else seed.FULL
    duration = args.duration or (2 if args.quick else 10)
    wanted = [s for s in report.SCENARIOS if not args.only or s.name in args.only]
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    progress = Progress()
    jwt_secret = secrets.token_urlsafe(48)
    results: dict[str, Result] = {}
    cached: dict[str, Result] = {}
    ceilings: dict[Ceiling, Result] = {}
    rss: dict[str, dict[int, int]] = {}
    extra: dict[str, Any] = {}
    idle: dict[str, float] = {}  # idle CPU just before each measurement

    def measure(base_url: str, name: str, requests: list[Request], workdir: Path) -> Result:
        file = wrk.write_requests(workdir / f"{name.replace(' ', '_')}.txt", requests)
        # A quick run tests the harness: it does not wait for the machine to be idle (under a
        # parallel test suite it never is, and each measurement would wait 10 s).
        idle[name] = round(servers.settled_idle_cpu(BUSY_BELOW, 0 if args.quick else 10), 2)
        if args.warmup:
            # The requests from the other end: a warm server, not a warm cache of the
            # very requests measured (drafts and queries are all different).
            warm = wrk.write_requests(workdir / "warm-up.txt", requests[::-1])
            wrk.run(base_url, warm, args.warmup)
        result = wrk.run(base_url, file, duration)
        progress.say(
            f"  {name}: {result.rps:.1f} req/s, p50 {result.p50_ms:.1f} ms, "
            f"p99 {result.p99_ms:.1f} ms, non-2xx {result.non2xx + result.socket_errors}, "
            f"CPU idle before: {idle[name]:.0%}"
        )
        return result

    with (
        tempfile.TemporaryDirectory(prefix="conduit-bench-") as tmp,
        throwaway_database("conduit_bench") as database_url,
        _broker() as broker_url,
    ):
        workdir = Path(tmp)
        progress.say(f"database {make_url(database_url).database}")
        progress.say(
            f"outbox: relayed by the workers of {broker_url} (none runs: the events queue up)"
            if broker_url
            else "outbox: RabbitMQ unreachable, so in-process mode (this server delivers)"
        )
        server_env = {
            "JWT_SECRET_KEY": jwt_secret,
            # No worker recycling: the same workers throughout, so RSS growth would show.
            "GUNICORN_MAX_REQUESTS": "0",
            "READ_CACHE": "false",
            # The limiter runs (its cost is part of every request) but never trips: all load
            # comes from one address, and login/registration allow 10 a minute in production.
            **{
                f"RATE_LIMIT_{name}": "1000000/minute"
                for name in ("DEFAULT", "LOGIN", "REGISTER", "SUGGEST")
            },
            # As production: each worker loads the model after the fork, before its first request.
            "MODEL_PRELOAD": "true",
            **({"REDIS_URL": args.redis_url} if args.redis_url else {}),
            # Production's web nodes: a commit that emitted asks the workers to relay; the
            # fan-out runs there, not on the machine measured.
            **({"CELERY_BROKER_URL": broker_url} if broker_url else {}),
        }
        progress.say(f"rate-limit counters in {args.redis_url or 'worker memory (no Redis)'}")
        if args.redis_url:
            # The run's own Redis database, emptied: embeddings cached by an earlier run would
            # turn new drafts and queries into cache hits.
            redis.Redis.from_url(args.redis_url).flushdb()
        with ExitStack() as stack:
            with progress.phase("start our gunicorn (migrations, 2 workers, read cache off)"):
                server = stack.enter_context(
                    gunicorn_server(database_url, workers=2, env=server_env)
                )
                base_url = server.base_url
            progress.say(f"conduit on {base_url}")
            with progress.phase("seed through the API"):
                data = seed.seed(base_url, size, lambda m: progress.say(f"  {m}"))
            if any(s.name in ML_SCENARIOS for s in wanted):
                with progress.phase("embed the articles (make embed)"):
                    seed.embed(database_url, workdir / "embed.log")
            with progress.phase("fold the counters, VACUUM ANALYZE"):
                seed.analyze(database_url)
            requests = scenario_requests(data, DRAFTS if not args.quick else 100)
            page = fetch(base_url + LIST_PATH)
            page_file = workdir / "list-page.json"
            page_file.write_bytes(page)
            rss["after seeding"] = servers.worker_rss(server)

            with progress.phase("ceilings (gunicorn, 2 sync workers)"):
                with servers.ceiling(
                    "bench.ceiling_static:app",
                    {"BENCH_PAGE_FILE": str(page_file)},
                    workdir / "ceiling-static.log",
                ) as url:
                    ceilings["static"] = measure(
                        url, "static ceiling", [Request("GET", LIST_PATH)], workdir
                    )
                with servers.ceiling(
                    "bench.ceiling_flask:app",
                    {"BENCH_PAGE_FILE": str(page_file)},
                    workdir / "ceiling-flask.log",
                ) as url:
                    ceilings["flask"] = measure(
                        url, "bare-Flask ceiling", [Request("GET", LIST_PATH)], workdir
                    )
                libpq_url = make_url(database_url).set(drivername="postgresql")
                sql_env = {"BENCH_DATABASE_URL": libpq_url.render_as_string(hide_password=False)}
                with servers.ceiling(
                    "bench.ceiling_sql:app",
                    sql_env,
                    workdir / "ceiling-sql.log",
                    probe=LIST_PATH,
                ) as url:
                    sql_page = fetch(url + LIST_PATH)
                    ceilings["sql"] = measure(
                        url, "raw-SQL ceiling", [Request("GET", LIST_PATH)], workdir
                    )
                if any(s.name == "suggest tags" for s in wanted):
                    with servers.ceiling(
                        "bench.ceiling_model:app", {}, workdir / "ceiling-model.log"
                    ) as url:
                        ceilings["model"] = measure(
                            url, "bare-model ceiling", requests["suggest tags"], workdir
                        )
                extra["list_page"] = {
                    "conduit_bytes": len(page),
                    "raw_sql_bytes": len(sql_page),
                    "same_json": json.loads(page) == json.loads(sql_page),
                }
                progress.say(
                    f"  list page: ours {len(page)} B, raw SQL {len(sql_page)} B, "
                    f"same JSON: {extra['list_page']['same_json']}"
                )

            with progress.phase(f"scenarios ({duration}s each, after {args.warmup}s warm-up)"):
                for scenario in wanted:
                    results[scenario.name] = measure(
                        base_url, scenario.name, requests[scenario.name], workdir
                    )
            creates = [name for name in report.CREATES if name in results]
            if creates:
                with (
                    progress.phase("the write floor (gunicorn, 2 sync workers)"),
                    servers.ceiling(
                        "bench.ceiling_sql:app",
                        sql_env,
                        workdir / "ceiling-write.log",
                        probe=LIST_PATH,
                    ) as url,
                ):
                    ceilings["write"] = measure(
                        url, "raw-SQL write floor", requests[creates[0]], workdir
                    )
            rss["after the scenarios"] = servers.worker_rss(server)
            with progress.phase("list anonymous again (RSS check)"):
                repeat = measure(
                    base_url, "list anonymous (repeat)", requests["list anonymous"], workdir
                )
            rss["after a second list anonymous run"] = servers.worker_rss(server)

        cached_reads = [s for s in report.CACHED_SCENARIOS if s in wanted]
        if args.redis_url and cached_reads:
            # The create scenario added thousands of rows: autovacuum's insert threshold
            # (1000 + 20% of the table) would have run by now in production.
            with progress.phase("fold the counters, VACUUM ANALYZE again (after the writes)"):
                seed.analyze(database_url)
            with ExitStack() as stack:
                with progress.phase("start our gunicorn again, read cache on"):
                    server = stack.enter_context(
                        gunicorn_server(
                            database_url, workers=2, env={**server_env, "READ_CACHE": "true"}
                        )
                    )
                with progress.phase(f"read scenarios, cached ({duration}s each)"):
                    for scenario in cached_reads:
                        cached[scenario.name] = measure(
                            server.base_url,
                            scenario.name + report.CACHED,
                            requests[scenario.name],
                            workdir,
                        )
                rss["cached: after the read scenarios"] = servers.worker_rss(server)
        else:
            progress.say("no Redis: no cached run (--redis-url)")

        with progress.phase("trace the SQL of one request per scenario"):
            samples = {s.name: requests[s.name][0] for s in wanted}
            traced = statements.trace(database_url, jwt_secret, samples)

    measured_topologies: list[topologies.Topology] = []
    skipped = "--no-topologies" if not args.topologies else topologies.cannot_run()
    if skipped:
        progress.say(f"topologies skipped: {skipped}")
        extra["topologies_skipped"] = skipped
    else:
        with progress.phase(f"topologies: the anonymous list ({duration}s each)"):
            patience = 0 if args.quick else 10
            idle["topologies"] = round(servers.settled_idle_cpu(BUSY_BELOW, patience), 2)
            measured_topologies = topologies.measure_all(duration, size, progress.say)

    print()
    print(report.table(results, ceilings, cached, measured_topologies))
    print("  * the ratio the scenario's target is about")
    print()
    print("Targets:")
    print(report.targets_text(report.targets(results, ceilings, cached, measured_topologies)))
    print()
    busy = {name: value for name, value in idle.items() if value < BUSY_BELOW}
    if busy:
        print(
            f"WARNING: the machine was busy before some measurements (idle CPU < {BUSY_BELOW:.0%}):"
            " other processes compete for the same cores, so these numbers understate us"
            " and the ratios are noisy:"
        )
        print("  " + ", ".join(f"{name} {value:.0%}" for name, value in busy.items()))
        print()
    print("RSS per gunicorn worker (recycling is off: the same pids within each server):")
    print(report.rss_text(rss))
    print()
    print(
        "SQL round trips per request (BEGIN, statements, COMMIT/ROLLBACK; a pre-ping if the pool had one):"
    )
    for name, trace in traced.items():
        print(f"  {name}: {trace['round_trips']} ({trace['status']})")
    path = report.save(
        args.results,
        stamp,
        report.document(
            results,
            ceilings,
            cached,
            measured_topologies,
            started=stamp,
            quick=args.quick,
            duration_s=duration,
            warmup_s=args.warmup,
            wrk={"threads": wrk.THREADS, "connections": wrk.CONNECTIONS},
            dataset=asdict(size),
            list_anonymous_repeat=repeat.to_dict(),
            idle_cpu_before=idle,
            rss_kib={stage: {str(p): k for p, k in w.items()} for stage, w in rss.items()},
            sql=traced,
            timings_s={**progress.timings, "total": round(time.monotonic() - progress.start, 1)},
            **extra,
        ),
    )
    print()
    progress.say(f"report written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
