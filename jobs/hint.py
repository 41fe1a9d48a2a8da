"""Wake the relay right after a commit that emitted, from a thread of the web process.

The hint is what makes notifications prompt; the sweep (Celery beat, or this thread's own
timer in in-process mode) is what makes them certain: a hint lost to a crash or a broker
outage only delays its events until the next sweep. The request never waits for either.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable

from celery import Celery
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.settings import Settings
from db import counters, retry
from db.outbox import EMITTED
from db.session import Database
from jobs import embedding
from jobs import relay as relaying
from ml.serving import ModelService

log = logging.getLogger(__name__)
# How long a woken relay waits for more commits before it claims: what a notification may be
# delayed by, against the relay passes it saves under load.
COALESCE_SECONDS = 0.05


class HintThread:
    """One daemon thread per process, started lazily (so after gunicorn forks), that runs a
    pass when woken (after a short wait for more commits) or every `sweep_seconds`."""

    def __init__(self, sweep_seconds: float | None) -> None:
        self._sweep_seconds = sweep_seconds  # None: run on hints only (beat sweeps)
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._stopped = False

    def wake(self) -> None:
        self.start()
        self._wake.set()

    def stop(self) -> None:
        """End the thread after its current pass (a runtime disposed of: tests)."""
        self._stopped = True
        self._wake.set()

    def start(self) -> None:
        if self._pid == os.getpid() or self._stopped:
            return
        with self._lock:
            if self._pid != os.getpid():
                threading.Thread(target=self._run, name="outbox-relay", daemon=True).start()
                self._pid = os.getpid()

    def _run(self) -> None:
        while not self._stopped:
            if self._wake.wait(self._sweep_seconds):
                # Let the commits of the next few milliseconds join this pass: under load one
                # pass serves many requests.
                time.sleep(COALESCE_SECONDS)
            self._wake.clear()
            if not self._stopped:
                self.run_once()

    def run_once(self) -> int:
        raise NotImplementedError


class Relay(HintThread):
    """In-process mode (and tests): a pass relays and delivers here, in this process."""

    def __init__(
        self,
        settings: Settings,
        database: Database,
        publisher: Callable[[Settings, Session], Callable[[int], None]],
        sweep_seconds: float | None,
        model: ModelService | None = None,
    ) -> None:
        super().__init__(sweep_seconds)
        self._settings = settings
        self._database = database
        self._publisher = publisher
        self._model = model

    def run_once(self) -> int:
        session = self._database.session()
        try:
            relayed = retry.run(
                lambda: relaying.relay_all(session, self._publisher(self._settings, session)),
                rollback=session.rollback,
            )
            retry.run(lambda: self._fold(session), rollback=session.rollback)
            model = self._model
            if model is not None:  # articles created or edited: embedded here
                retry.run(lambda: embedding.embed_stale(session, model), rollback=session.rollback)
            return relayed
        except Exception:  # the sweep retries; a thread that died would never
            log.exception("outbox relay failed; its events stay pending")
            session.rollback()
            return 0
        finally:
            self._database.remove()

    @staticmethod
    def _fold(session: Session) -> None:
        counters.fold(session)
        session.commit()


class RemoteRelay(HintThread):
    """Broker mode: a pass is one `jobs.relay` task for the workers, which claim, publish and
    deliver; the web process touches neither the outbox nor the events. With the coalescing
    wait, that is at most one small message per worker process every `COALESCE_SECONDS`."""

    def __init__(self, send: Callable[[], object]) -> None:
        super().__init__(None)  # beat sweeps
        self._send = send

    def run_once(self) -> int:
        try:
            self._send()
        except Exception:  # the broker is away: beat's sweep relays the events later
            log.exception("could not ask the workers to relay; the sweep will")
            return 0
        return 1


def install(
    settings: Settings, database: Database, celery: Celery | None, model: ModelService
) -> HintThread:
    """The relay this process wakes after each commit that emitted: in broker mode it asks the
    workers to relay; in-process mode it delivers here, and sweeps on a timer once started
    (the web app starts it at its first request: after gunicorn forks)."""
    relay: HintThread
    if celery is not None:
        relay = RemoteRelay(lambda: celery.send_task("jobs.relay"))
    else:
        relay = Relay(
            settings, database, relaying.deliver_inline, settings.outbox_sweep_seconds, model
        )
    if not settings.outbox_hint:
        return relay

    def after_commit(session: Session) -> None:
        if session.info.pop(EMITTED, False):
            relay.wake()

    def after_rollback(session: Session) -> None:
        session.info.pop(EMITTED, None)

    factory = database.session.session_factory
    event.listen(factory, "after_commit", after_commit)
    event.listen(factory, "after_soft_rollback", lambda session, _tx: after_rollback(session))
    return relay
