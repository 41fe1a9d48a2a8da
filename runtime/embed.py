"""Embed every article not yet embedded for the current model: `python -m runtime.embed`
(`make embed`), with a progress bar. Resumable and idempotent (jobs/embedding.py)."""

from __future__ import annotations

import runtime
from core import logs
from jobs.embedding import backfill


def main() -> None:
    conduit = runtime.build()
    logs.configure(conduit.settings.log_level, conduit.settings.log_format)
    try:
        done = backfill(conduit.database.session(), conduit.model)
        print(f"embedded {done} articles with {conduit.model.name} {conduit.model.version()}")
    finally:
        conduit.dispose()


if __name__ == "__main__":
    main()
