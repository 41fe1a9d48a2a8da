"""`runtime.worker`'s Celery app with one task more, for the tests: `tests.crash`, a poison
message that kills the pool process running it, every time it runs.

It takes the real tasks' retry policy with `CRASH_RETRIES` (from the environment) immediate
retries, so the test need not wait out the production delays; `task_retry_on_worker_lost`
comes from the app's own config.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from jobs.tasks import RETRY
from runtime.worker import celery_app

CRASH_RETRIES = int(os.environ["CRASH_RETRIES"])


@celery_app.task(  # type: ignore[untyped-decorator]
    name="tests.crash", **{**RETRY, "max_retries": CRASH_RETRIES, "default_retry_delay": 0}
)
def crash(runs: str) -> None:
    """Note the run in the file `runs`, then die as the out-of-memory killer would kill."""
    with Path(runs).open("a") as file:
        file.write(f"{os.getpid()}\n")
    os.kill(os.getpid(), signal.SIGKILL)
