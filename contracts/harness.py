"""Shared schemathesis set-up: a committing app on a throwaway PostgreSQL database, real users."""

from __future__ import annotations

import functools
import itertools
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import schemathesis
from flask import Flask
from schemathesis.engine import Status, events
from schemathesis.transport.wsgi import WSGITransport

import contracts.hooks  # noqa: F401 - registers the filter_failure hook
from api import create_app
from api.context import runtime_of
from testkit.database import PostgresServer
from testkit.settings import make_settings

# Users the auth provider registers are named with this prefix.
AUTH_PREFIX = "st-"
_users = itertools.count()

CONFIG = Path(__file__).with_name("schemathesis.toml")


def committing_app(server: PostgresServer) -> Iterator[Flask]:
    with server.database(migrate=True) as url:
        app = create_app(make_settings(url))
        yield app
        runtime_of(app).dispose()


class RegisteredUser:
    """Auth as a real user: registered through the API, token sent as `Token <jwt>`."""

    def get(self, case: Any, context: Any) -> str:
        name = f"{AUTH_PREFIX}{next(_users)}-{uuid.uuid4().hex[:8]}"
        response = context.app.test_client().post(
            "/api/users",
            json={
                "user": {
                    "username": name,
                    "email": f"{name}@example.com",
                    "password": "pass-" + name,
                }
            },
        )
        assert response.status_code == 201, response.get_data(as_text=True)
        token: str = response.get_json()["user"]["token"]
        return token

    def set(self, case: Any, data: str, context: Any) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Token {data}"}


def load(path: Path, app: Flask) -> Any:
    """The document at `path`, bound to `app` in-process, with CI's budget and real users."""
    schema = schemathesis.openapi.from_path(path, config=schemathesis.Config.from_path(CONFIG))
    schema.app = app
    schema.auth()(RegisteredUser)
    return schema


@dataclass
class Report:
    """What a schemathesis engine run did, in figures, and every failure it found."""

    scenarios: Counter[str] = field(default_factory=Counter)
    cases: Counter[str] = field(default_factory=Counter)
    checks: Counter[str] = field(default_factory=Counter)
    operations: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    stop_reason: str = ""
    # Failures contracts/hooks.py dropped (duplicate-name 409s the RealWorld contract mandates).
    dropped: int = 0

    def summary(self) -> str:
        return (
            f"operations={len(self.operations)} scenarios={dict(self.scenarios)} "
            f"cases={dict(self.cases)} checks={sum(self.checks.values())} "
            f"({len(self.checks)} kinds: {', '.join(sorted(self.checks))}) "
            f"failures={len(self.failures)} errors={len(self.errors)} "
            f"dropped-by-hook={self.dropped} stop={self.stop_reason}"
        )


def _response_text(recorder: Any, case_id: str) -> str:
    interaction = recorder.interactions.get(case_id)
    response = interaction.response if interaction is not None else None
    if response is None:
        return ""
    steps = [
        f"   {i.request.method} {i.request.uri.split('/api', 1)[-1][:80]} -> "
        f"{i.response.status_code if i.response else '-'}"
        for i in sorted(recorder.interactions.values(), key=lambda i: i.timestamp)
    ]
    return f"\n-> {response.status_code} {response.content[:300]!r}\n" + "\n".join(steps[-12:])


def _describe(info: Any) -> str:
    if info is None:
        return ""
    return f"{info.failure.title}: {info.failure.message[:300]}\n{info.code_sample}"


def _drop_socket_options(send: Any) -> Any:
    """Work around schemathesis 4.32: its auth probes pass `max_redirects` & co. to werkzeug."""

    @functools.wraps(send)
    def wrapper(self: Any, case: Any, *args: Any, **kwargs: Any) -> Any:
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
        return send(self, case, *args, **kwargs)

    return wrapper


WSGITransport.send = _drop_socket_options(WSGITransport.send)  # type: ignore[method-assign]


def run(schema: Any) -> Report:
    """Run every phase of the schemathesis engine, as `schemathesis run` would."""
    report = Report()
    for event in schemathesis.engine.from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            phase = str(event.phase)
            report.scenarios[phase] += 1
            report.cases[phase] += len(event.recorder.cases)
            if event.label and event.status != Status.SKIP:
                report.operations.add(event.label)
            report.dropped += sum(event.recorder.filtered_failures.values())
            for case_id, checks in event.recorder.checks.items():
                for check in checks:
                    report.checks[check.name] += 1
                    if check.status != Status.FAILURE:
                        continue
                    report.failures.append(
                        f"{event.label} [{phase}] {check.name}: {_describe(check.failure_info)}"
                        + _response_text(event.recorder, case_id)
                    )
        elif isinstance(event, events.NonFatalError):
            report.errors.append(f"{event.label}: {event.info.format()}")
        elif isinstance(event, events.FatalError):
            raise event.exception
        elif isinstance(event, events.EngineFinished):
            report.stop_reason = str(event.stop_reason)
    return report
