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

from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from core.settings import Settings
from db import retry
from db.outbox import EMITTED
from db.session import Database
from jobs import relay as relaying
from jobs.celery import make_celery

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

    def wake(self) -> None:
        self.start()
        self._wake.set()

    def start(self) -> None:
        if self._pid == os.getpid():
            return
        with self._lock:
            if self._pid != os.getpid():
                threading.Thread(target=self._run, name="outbox-relay", daemon=True).start()
                self._pid = os.getpid()

    def _run(self) -> None:
        while True:
            if self._wake.wait(self._sweep_seconds):
                # Let the commits of the next few milliseconds join this pass: under load one
                # pass serves many requests.
                time.sleep(COALESCE_SECONDS)
            self._wake.clear()
            self.run_once()

    def run_once(self) -> int:
        raise NotImplementedError


class Relay(HintThread):
    """In-process mode (and tests): a pass relays here, with the publisher given."""

    def __init__(
        self,
        app: Flask,
        database: Database,
        publisher: Callable[[Session], Callable[[int], None]],
        sweep_seconds: float | None,
    ) -> None:
        super().__init__(sweep_seconds)
        self._app = app
        self._database = database
        self._publisher = publisher

    def run_once(self) -> int:
        with self._app.app_context():  # its teardown removes the session
            session = self._database.session()
            try:
                return retry.run(
                    lambda: relaying.relay_all(session, self._publisher(session)),
                    rollback=session.rollback,
                )
            except Exception:  # the sweep retries; a thread that died would never
                log.exception("outbox relay failed; its events stay pending")
                session.rollback()
                return 0


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


def init_app(app: Flask, settings: Settings, database: Database) -> None:
    """Broker mode: ask the workers to relay. In-process mode: deliver here, sweep on a timer."""
    relay: HintThread
    if settings.celery_broker_url:
        celery = make_celery(app, settings)
        relay = RemoteRelay(lambda: celery.send_task("jobs.relay"))
    else:
        relay = Relay(app, database, relaying.deliver_inline, settings.outbox_sweep_seconds)
    app.extensions["conduit_relay"] = relay
    if not settings.outbox_hint:
        return

    def after_commit(session: Session) -> None:
        if session.info.pop(EMITTED, False):
            relay.wake()

    def after_rollback(session: Session) -> None:
        session.info.pop(EMITTED, None)

    factory = database.session.session_factory
    event.listen(factory, "after_commit", after_commit)
    event.listen(factory, "after_soft_rollback", lambda session, _tx: after_rollback(session))
    if not settings.celery_broker_url:
        app.before_request(relay.start)  # the sweep runs from the first request on
