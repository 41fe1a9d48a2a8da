"""The benchmark harness (bench/): its pure parts always; `--quick` end to end when wrk is here.

No timing assertions: numbers belong to bench/results/, not to the test suite.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import report, run, seed, topologies, wrk
from bench.statements import round_trips
from bench.wrk import Request, Result
from testkit.database import PostgresServer
from testkit.settings import unavailable

# wrk 4.1 with bench/wrk.lua against the static ceiling, verbatim.
WRK_OUTPUT = """\
Running 1s test @ http://127.0.0.1:18765
  2 threads and 16 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.53ms    6.18ms  43.83ms   87.66%
    Req/Sec     1.91k     1.08k    3.27k    52.38%
  4040 requests in 1.08s, 761.45KB read
Requests/sec:   3744.08
Transfer/sec:    705.67KB
BENCH_RESULT {"requests":4040,"duration_us":1079036,"bytes":779720,"non2xx":0,"errors":{"connect":0,"read":0,"write":0,"status":0,"timeout":0},"latency_us":{"mean":5531.1,"p50":2842,"p90":14016,"p99":31369,"max":43833}}
"""


def result(rps: float, p99_ms: float = 10.0, non2xx: int = 0) -> Result:
    return Result(
        requests=int(rps * 10),
        seconds=10.0,
        rps=rps,
        p50_ms=p99_ms / 2,
        p90_ms=p99_ms * 0.8,
        p99_ms=p99_ms,
        max_ms=p99_ms * 2,
        mean_ms=p99_ms / 2,
        non2xx=non2xx,
        socket_errors=0,
        bytes_per_response=1000.0,
    )


def test_parse_reads_the_result_line() -> None:
    parsed = wrk.parse(WRK_OUTPUT)
    assert parsed.requests == 4040
    assert parsed.rps == pytest.approx(4040 / 1.079036, abs=0.1)
    assert (parsed.p50_ms, parsed.p90_ms, parsed.p99_ms, parsed.max_ms) == (
        2.842,
        14.016,
        31.369,
        43.833,
    )
    assert parsed.non2xx == 0 and parsed.socket_errors == 0
    assert parsed.bytes_per_response == pytest.approx(193.0)


def test_parse_without_result_line_says_so() -> None:
    with pytest.raises(ValueError, match="BENCH_RESULT"):
        wrk.parse("unable to connect to 127.0.0.1:1 Connection refused\n")


def test_request_lines_reject_what_the_lua_script_cannot_split() -> None:
    assert Request("GET", "/api/tags").line() == "GET\t/api/tags\t\t"
    assert Request("POST", "/p", "tok", '{"a": "{n}"}').line() == 'POST\t/p\ttok\t{"a": "{n}"}'
    with pytest.raises(ValueError, match="tabs and newlines"):
        Request("POST", "/p", body="a\nb").line()


def test_table_and_targets() -> None:
    results = {s.name: result(100.0) for s in report.SCENARIOS}
    results["feed"] = result(10.0, p99_ms=250.0, non2xx=3)
    results["suggest tags"] = result(9.0, p99_ms=900.0)  # a model's latency, not a read's
    results["related"] = result(45.0)  # 0.45x the single article's 100
    cached = {s.name: result(400.0) for s in report.CACHED_SCENARIOS}
    cached["tags"] = result(100.0)
    ceilings: dict[report.Ceiling, Result] = {
        "sql": result(150.0),
        "flask": result(300.0),
        "static": result(1000.0),
        "model": result(10.0),
        "write": result(250.0),
    }
    results["create article, 16 authors"] = result(130.0)

    text = report.table(results, ceilings, cached)
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["scenario", "req/s", "p50"]
    assert len(lines) == 2 + len(report.SCENARIOS) + len(report.CACHED_SCENARIOS) + 5
    related = next(line for line in lines if line.startswith("related  "))
    assert related.endswith(">= 0.5x NOT MET (0.45x single article)")
    assert not any(line.startswith("related (cached)") for line in lines)  # not cacheable
    suggest = next(line for line in lines if line.startswith("suggest tags  "))
    assert "0.90x*" in suggest and suggest.endswith(">= 0.8x met")
    anonymous = next(line for line in lines if line.startswith("list anonymous  "))
    assert "0.67x*" in anonymous and anonymous.endswith(">= 0.6x met")
    assert any(line.startswith("tags  ") and "0.33x*" in line for line in lines)
    cached_list = next(line for line in lines if line.startswith("list anonymous (cached)"))
    # a cached list against the static server sending the same bytes (issue 26)
    assert "0.40x*" in cached_list and cached_list.endswith(">= 0.6x NOT MET")
    assert "2.67x " in cached_list  # the raw-SQL ratio, shown unmarked
    cached_tags = next(line for line in lines if line.startswith("tags (cached)"))
    assert cached_tags.endswith(">= 0.5x NOT MET")
    assert any(line.startswith("[bare-Flask ceiling]") for line in lines)

    found = {t.description: t for t in report.targets(results, ceilings, cached)}
    assert found["list anonymous >= 0.6x raw-SQL ceiling"].met
    assert not found["feed >= 0.5x raw-SQL ceiling"].met
    assert found["tags >= 0.25x bare-Flask ceiling"].met
    assert not found["list by tag (cached) >= 0.6x static ceiling"].met  # 400 of 1000
    assert not found["list by tag >= 0.7x raw-SQL ceiling"].met
    assert not found["tags (cached) >= 0.5x bare-Flask ceiling"].met
    # the cache does not apply to authenticated reads: their target stays
    assert found["feed (cached) >= 0.5x raw-SQL ceiling"].met
    assert not found["create article >= 0.5x raw-SQL write floor"].met  # 100 of 250
    assert found["create article, 16 authors >= 0.5x raw-SQL write floor"].met
    assert found["suggest tags >= 0.8x bare-model ceiling"].met
    assert not found["related >= 0.5x single article"].met
    assert not found["p99 <= 50 ms on reads"].met
    assert "feed: 250.0 ms" in found["p99 <= 50 ms on reads"].detail
    assert not found["0 non-2xx (and no socket errors)"].met

    document = report.document(results, ceilings, cached, quick=True)
    assert document["scenarios"]["list anonymous"]["vs_sql"] == pytest.approx(0.667)
    assert document["cached"]["single article"]["vs_flask"] == pytest.approx(1.333)
    assert document["scenarios"]["related"]["vs_single article"] == pytest.approx(0.45)
    json.dumps(document)  # JSON-ready


def test_topology_rows_and_targets_join_the_report() -> None:
    """Issue 25's rows (`make bench`'s last phase): the replica's share, PgBouncer vs direct."""
    measured = [
        topologies.Topology("direct", result(1000.0)),
        topologies.Topology("replica", result(950.0), replica_share=0.999),
        topologies.Topology("pgbouncer", result(850.0, non2xx=2)),
        topologies.Topology("pgb-session", result(930.0)),
    ]
    results = {"list anonymous": result(100.0)}
    ceilings: dict[report.Ceiling, Result] = {"sql": result(150.0)}
    lines = report.table(results, ceilings, None, measured).splitlines()
    assert len(lines) == 2 + 1 + 4 + 1
    row = {line.split("  ")[0]: line for line in lines}
    assert row["list anonymous [direct]"].split()[-1] == "0"  # no target of its own
    assert row["list anonymous [replica]"].endswith(">= 95% of reads on the replica met (99.9%)")
    assert row["list anonymous [pgbouncer]"].endswith(">= 0.9x direct NOT MET (0.85x)")
    assert row["list anonymous [pgb-session]"].endswith(">= 0.9x direct met (0.93x)")

    found = {t.description: t for t in report.targets(results, ceilings, None, measured)}
    assert found["list anonymous [replica] >= 95% of reads on the replica"].met
    assert not found["list anonymous [pgbouncer] >= 0.9x direct"].met
    assert found["list anonymous [pgb-session] >= 0.9x direct"].detail == "0.93x"
    assert "list anonymous [pgbouncer]: 2" in found["0 non-2xx (and no socket errors)"].detail

    document = report.document(results, ceilings, None, measured)
    assert document["topologies"]["pgbouncer"]["vs_direct"] == pytest.approx(0.85)
    assert document["topologies"]["replica"]["replica_share"] == pytest.approx(0.999)
    json.dumps(document)


def test_scenario_requests_cover_every_scenario() -> None:
    data = seed.Dataset(
        users=[
            {"username": "u", "email": "u@x.example", "token": "t"},
            {"username": "v", "email": "v@x.example", "token": "t2"},
        ],
        slugs=["a-slug"],
        tags=["c++", "python"],
        followers=["t"],
        commented=["a-slug"],
    )
    requests = run.scenario_requests(data, drafts=3)
    assert set(requests) == {s.name for s in report.SCENARIOS}
    assert all(requests[name] for name in requests)
    assert requests["list by tag"][0].path == "/api/articles?tag=c%2B%2B&limit=20"
    assert "{n}" in requests["create article"][0].body
    assert {r.token for r in requests["create article"]} == {"t"}  # one author
    assert {r.token for r in requests["create article, 16 authors"]} == {"t", "t2"}
    drafts = {r.body for r in requests["suggest tags"]}
    assert len(drafts) == 3 and all(900 < len(body) < 1300 for body in drafts)
    popular = [r.path for r in requests["search"]]
    new = [r.path for r in requests["search, new queries"]]
    assert len(popular) == run.POPULAR_QUERIES and len(new) > 1000
    assert len(set(popular + new)) == len(popular + new)
    assert all("q=" in path for path in popular + new)
    for lines in requests.values():
        for request in lines:
            request.line()


@pytest.mark.long
def test_quick_run_end_to_end(
    postgres_server: PostgresServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The topologies' own run is tests/bench/test_topologies.py's: here they say why not."""
    if shutil.which("wrk") is None:
        unavailable("wrk is not installed (apt-get install wrk)")
    monkeypatch.setattr(topologies, "cannot_run", lambda: "pgbouncer not found (a test)")
    status = run.main(["--quick", "--duration=1", "--warmup=0", f"--results={tmp_path}"])
    assert status == 0
    assert "topologies skipped: pgbouncer not found (a test)" in capsys.readouterr().out
    [saved] = tmp_path.glob("*.json")
    document = json.loads(saved.read_text())
    assert document["topologies"] == {}
    assert document["topologies_skipped"] == "pgbouncer not found (a test)"
    assert set(document["scenarios"]) == {s.name for s in report.SCENARIOS}
    with_redis = run.default_redis() is not None  # the cached run needs it
    assert set(document["cached"]) == (
        {s.name for s in report.CACHED_SCENARIOS} if with_redis else set()
    )
    assert set(document["ceilings"]) == set(report.CEILING_NAMES.values())
    assert document["list_page"]["same_json"] is True
    assert all(
        {"rps", "p50_ms", "p99_ms", "non2xx"} <= set(s) for s in document["scenarios"].values()
    )
    assert len(document["rss_kib"]["after a second list anonymous run"]) == 2


def test_round_trips_count_what_reaches_the_server() -> None:
    reset = "ROLLBACK (pool reset on return)"
    # a write: the reset after COMMIT finds no transaction, so psycopg sends nothing
    assert round_trips(["-- pool checkout", "BEGIN", "INSERT x", "COMMIT", reset]) == 3
    # a transaction left open: the reset is a real ROLLBACK
    assert round_trips(["-- pool checkout", "BEGIN", "SELECT 1", reset]) == 3
    assert round_trips(["-- pool checkout (pre-ping: SELECT 1)", "SELECT 1"]) == 2
