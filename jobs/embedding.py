"""Articles embedded in the background: every pass embeds those whose vector is missing or
stale for the current model version, a bounded batch at a time, never in a request.

The relay's pass runs it (woken by a commit that created or edited an article, or by the
sweep), in the web process in in-process mode, as the `jobs.embed` task with a broker. It is
also the backfill (`python -m runtime.embed`, `make embed`): idempotent and resumable, since
what is done is simply no longer stale.
"""

from __future__ import annotations

import logging
import sys
import time

from sqlalchemy.orm import Session

from db import embeddings
from ml.model import ModelError
from ml.serving import ModelService, to_bytes
from ml.suggest import article_text

log = logging.getLogger(__name__)

BATCH = 32


def embed_stale(session: Session, model: ModelService, limit: int = BATCH) -> int:
    """Embed up to `limit` stale articles and commit them: how many. 0 when the model is
    unavailable (logged once by its load): the articles stay stale until it is back."""
    try:
        version = model.version()
    except ModelError:
        return 0
    if not embeddings.claim_pass(session):  # another process is embedding: it takes these
        session.rollback()
        return 0
    sources = embeddings.stale(session, version, limit)
    if not sources:
        session.rollback()
        return 0
    texts = [article_text(s.title, s.description, s.body) for s in sources]
    vectors = model.embed(texts, "article")
    embeddings.store(session, version, sources, [to_bytes(v) for v in vectors])
    session.commit()
    return len(sources)


def backfill(session: Session, model: ModelService, out: object = sys.stderr) -> int:
    """Embed every stale article, batch after batch, with a progress line (articles/s, ETA)."""
    version = model.version()
    total = embeddings.count_stale(session, version)
    session.rollback()
    done, started = 0, time.monotonic()
    while True:
        embedded = embed_stale(session, model, BATCH)
        if not embedded:
            break
        done += embedded
        rate = done / max(time.monotonic() - started, 1e-9)
        eta = max(total - done, 0) / rate if rate else 0.0
        width = 30
        filled = int(width * min(done / total, 1.0)) if total else width
        print(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
            f"  {rate:.1f} articles/s  ETA {eta:.0f} s",
            end="",
            file=out,  # type: ignore[call-overload]
            flush=True,
        )
    print(file=out)  # type: ignore[call-overload]
    return done
