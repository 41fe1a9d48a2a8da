"""`make bench-topologies` end to end, short: four topologies of private servers, each measured.

What it asserts holds however slow the box: every request answered 2xx, and the replica
topology's reads all counted, most of them on the replica (the bench prints the share; the
issue's 95 % is for `make bench-topologies` at full length, not for a one-second run).
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from bench import wrk
from testkit.database import PrivateCluster
from testkit.pgbouncer import cannot_run
from testkit.settings import ROOT, unavailable

ROW = re.compile(
    r"^(direct|replica|pgbouncer|pgb-session)\s+(\d+)\s+[\d.]+\s+[\d.]+\s+(\d+)\s*(.*)$"
)


@pytest.mark.long
def test_three_topologies_measured_without_an_error() -> None:
    if reason := PrivateCluster.cannot_run() or cannot_run():
        unavailable(reason)
    if not wrk.available():
        unavailable("wrk not found (apt install wrk)")
    command = ["-m", "bench.topologies", "--seconds", "1", "--quick"]
    done = subprocess.run(
        [sys.executable, *command], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    rows = {m[1]: m for line in done.stdout.splitlines() if (m := ROW.match(line))}
    assert set(rows) == {"direct", "replica", "pgbouncer", "pgb-session"}, done.stdout
    assert all(int(m[2]) > 0 and m[3] == "0" for m in rows.values()), done.stdout
    share = re.search(r"replica served ([\d.]+)% of reads", rows["replica"][4])
    assert share is not None and float(share[1]) > 50, done.stdout
    for pooled in ("pgbouncer", "pgb-session"):
        assert re.fullmatch(r"[\d.]+ x direct", rows[pooled][4].strip()), done.stdout
