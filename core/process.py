"""This process's id and a request-id source, kept current across forks without a syscall.

gunicorn forks its workers from the master, so anything derived from the process (its id, a
random prefix) is renewed in each child by an at-fork hook rather than checked per use: a
`getpid()` per metric sample and a `urandom()` per request id were measurable on a cache hit.
"""

from __future__ import annotations

import itertools
import os

from prometheus_client import values

_pid = os.getpid()
_prefix = os.urandom(8).hex()
_serial = itertools.count()


def pid() -> int:
    """The current process's id."""
    return _pid


def new_id() -> str:
    """32 hex digits, unique across processes and time: a random per-process prefix and a
    counter. Unpredictability is not asked of a request id; uniqueness is."""
    return f"{_prefix}{next(_serial):016x}"


def _forked() -> None:
    global _pid, _prefix, _serial
    _pid, _prefix, _serial = os.getpid(), os.urandom(8).hex(), itertools.count()


os.register_at_fork(after_in_child=_forked)

# In multiprocess mode prometheus_client asks os.getpid() on every sample write, to notice a
# fork; the same answer from here, for every metric created after this import.
if values.ValueClass is not values.MutexValue:
    values.ValueClass = values.MultiProcessValue(process_identifier=pid)  # type: ignore[no-untyped-call]
