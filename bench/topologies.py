"""`python -m bench.topologies`: the anonymous article list on four database topologies.

A private primary (initdb), a streaming replica of it (`pg_basebackup -R`) and a private
PgBouncer in transaction pooling in front of the primary (3 server connections), all on free
ports under temp dirs (root is needed: they run as the postgres OS user). One gunicorn (2
workers, read cache off) per topology, on the same data: `direct` (DATABASE_URL = the primary),
`replica` (DATABASE_REPLICA_URLS too: the share of reads the replica served is read from
/metrics), `pgbouncer` (DATABASE_URL = PgBouncer in transaction pooling, BEHIND_PGBOUNCER) and
`pgb-session` (the same in session pooling, PGBOUNCER_POOL_MODE=session). wrk as `make bench`
runs it (2 threads, 16 connections). What the issue asks of them: the replica serves at least
95 % of anonymous list reads, and the PgBouncer topology's throughput is at least 0.9 x the
direct one's.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from pathlib import Path

from bench import wrk
from bench.wrk import Request, Result
from testkit.database import PrivateCluster
from testkit.http import call, register
from testkit.pgbouncer import PoolMode, pgbouncer
from testkit.servers import free_port, gunicorn_server

LIST = "/api/articles?limit=20"
READS = re.compile(r'^conduit_db_reads_total\{server="(\w+)"\} ([0-9.e+]+)$', re.MULTILINE)
QUIET = {"RATE_LIMIT_ENABLED": "false", "ACCESS_LOG": "false", "READ_CACHE": "false"}


def reads(base_url: str) -> dict[str, float]:
    body = call(base_url, "GET", "/metrics").body.decode()
    return {server: float(n) for server, n in READS.findall(body)}


def seed(base_url: str, authors: int, articles: int) -> None:
    for a in range(authors):
        token = register(base_url)
        for n in range(articles):
            article = {"title": f"bench {a} {n}", "description": "d", "body": "b " * 200,
                       "tagList": [f"t{n % 7}", "bench"]}  # fmt: skip
            reply = call(base_url, "POST", "/api/articles", json_body={"article": article},
                         token=token)  # fmt: skip
            assert reply.status == 201, reply.body


def measure(base_url: str, seconds: float, workdir: Path) -> Result:
    requests = wrk.write_requests(workdir / "list.txt", [Request("GET", LIST)])
    wrk.run(base_url, requests, 2)  # warm-up: pools, the monitor, psycopg's caches
    return wrk.run(base_url, requests, seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10, help="wrk's run per topology")
    parser.add_argument("--authors", type=int, default=5)
    parser.add_argument("--articles", type=int, default=40, help="per author")
    args = parser.parse_args()
    if reason := PrivateCluster.cannot_run():
        raise SystemExit(reason)
    if not wrk.available():
        raise SystemExit("wrk not found")
    rows: list[tuple[str, Result, str]] = []
    with (
        tempfile.TemporaryDirectory(prefix="conduit-bench-topologies-") as tmp,
        PrivateCluster.fresh(free_port()) as primary,
    ):
        workdir = Path(tmp)
        with gunicorn_server(primary.url, workers=2, env=QUIET) as direct:
            seed(direct.base_url, args.authors, args.articles)
            rows.append(("direct", measure(direct.base_url, args.seconds, workdir), ""))
        with PrivateCluster.replica_of(primary, free_port()) as replica:
            env = {**QUIET, "DATABASE_REPLICA_URLS": replica.url}
            with gunicorn_server(primary.url, workers=2, env=env) as routed:
                measure(routed.base_url, 2, workdir)  # every worker's monitor has polled
                before = reads(routed.base_url)
                result = measure(routed.base_url, args.seconds, workdir)
                after = reads(routed.base_url)
                by = {k: after.get(k, 0) - before.get(k, 0) for k in ("primary", "replica")}
                share = by["replica"] / max(1.0, by["primary"] + by["replica"])
                rows.append(("replica", result, f"replica served {share:.1%} of reads"))
        # Transaction pooling with 3 server connections (psycopg prepares nothing), then
        # session pooling with one per client connection (statements stay prepared).
        pooled_topologies: list[tuple[str, PoolMode, int]] = [
            ("pgbouncer", "transaction", 3),
            ("pgb-session", "session", 40),
        ]
        for name, mode, size in pooled_topologies:
            with pgbouncer(primary, free_port(), pool_mode=mode, pool_size=size) as bouncer:
                env = {**QUIET, "BEHIND_PGBOUNCER": "true", "PGBOUNCER_POOL_MODE": mode}
                os.environ.update(BEHIND_PGBOUNCER="true", PGBOUNCER_POOL_MODE=mode)
                with gunicorn_server(bouncer.url, workers=2, env=env) as pooled:
                    result = measure(pooled.base_url, args.seconds, workdir)
                    ratio = result.rps / rows[0][1].rps
                    rows.append((name, result, f"{ratio:.2f} x direct"))
    print(f"anonymous {LIST}, 2 workers, wrk {wrk.THREADS} threads x {wrk.CONNECTIONS} conns")
    print(f"{'topology':<12} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for name, result, note in rows:
        print(
            f"{name:<12} {result.rps:>8.0f} {result.p50_ms:>8.2f} {result.p99_ms:>8.2f}"
            f" {result.non2xx + result.socket_errors:>8}  {note}"
        )


if __name__ == "__main__":
    main()
