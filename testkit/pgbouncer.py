"""A private PgBouncer (Debian's) in front of a private cluster, for tests: its own config in a
temp dir, on a free port, run as the postgres OS user (PgBouncer refuses to run as root)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from testkit.database import PrivateCluster
from testkit.servers import stop

PoolMode = Literal["transaction", "session"]


def pgbouncer_bin() -> str | None:
    return shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )


def cannot_run() -> str | None:
    """Why no private PgBouncer can run here, or None."""
    if pgbouncer_bin() is None:
        return "pgbouncer not found (apt install pgbouncer)"
    if os.geteuid() != 0:
        return "a private PgBouncer is run as the postgres OS user, which needs root"
    return None


class PgBouncer:
    def __init__(self, root: Path, port: int, process: subprocess.Popen[bytes]) -> None:
        self.root = root
        self.port = port
        self.process = process
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/conduit"
        # With a replica: its `conduit` database, through this PgBouncer too.
        self.replica_url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/conduit_replica"

    def log(self) -> str:
        path = self.root / "pgbouncer.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextmanager
def pgbouncer(
    cluster: PrivateCluster,
    port: int,
    *,
    pool_mode: PoolMode = "transaction",
    pool_size: int = 3,
    replica: PrivateCluster | None = None,
) -> Iterator[PgBouncer]:
    """PgBouncer on `port` for the cluster's `conduit` database (and the replica's, as
    `conduit_replica`): trust auth, `pool_size` server connections at most per database, in
    `pool_mode`; stopped and removed afterwards.

    Set up as production runs it beside PostgreSQL (docs/operations.md): clients come over TCP,
    and PgBouncer reaches the server through its Unix socket (the cluster's directory), so the
    one network hop a statement pays is the client's, as when it connects directly. Its
    packet buffer is 32 KiB, not 4: a list page (12 KiB of JSON) crosses in fewer reads and
    writes."""
    program = pgbouncer_bin()
    assert program, "pgbouncer not found"
    root = Path(tempfile.mkdtemp(prefix="conduit-pgbouncer-"))
    root.chmod(0o755)
    (root / "users.txt").write_text('"postgres" ""\n')
    (root / "pgbouncer.ini").write_text(
        f"""[databases]
conduit = host={cluster.root} port={cluster.port} dbname=conduit
postgres = host={cluster.root} port={cluster.port} dbname=postgres
{f"conduit_replica = host={replica.root} port={replica.port} dbname=conduit" if replica else ""}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = trust
auth_file = {root / "users.txt"}
pool_mode = {pool_mode}
default_pool_size = {pool_size}
max_db_connections = {pool_size}
reserve_pool_size = 0
max_client_conn = 1000
logfile = {root / "pgbouncer.log"}
pidfile = {root / "pgbouncer.pid"}
admin_users = postgres
pkt_buf = 32768
"""
    )
    shutil.chown(root, "postgres", "postgres")
    for path in root.iterdir():
        shutil.chown(path, "postgres", "postgres")
    process = subprocess.Popen(
        [program, str(root / "pgbouncer.ini")],
        user="postgres",
        group="postgres",
        extra_groups=[],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    bouncer = PgBouncer(root, port, process)
    try:
        _wait_for(bouncer)
        yield bouncer
    finally:
        stop(process, 10)
        shutil.rmtree(root, ignore_errors=True)


def _wait_for(bouncer: PgBouncer, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if bouncer.process.poll() is not None:
            raise RuntimeError(f"pgbouncer exited:\n{bouncer.log()}")
        try:
            with socket.create_connection(("127.0.0.1", bouncer.port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"pgbouncer did not listen within {timeout}s:\n{bouncer.log()}")
