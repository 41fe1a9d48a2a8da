"""Log lines, readable text or JSON, one per record: the app's (api/pipeline/observability.py)
and gunicorn's master's own (deploy/gunicorn-logging.json) alike."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import IO, Any

import orjson

from core.settings import LogFormat

# CSI (colors: werkzeug's request lines), OSC, and two-character escapes; then any stray ESC.
_ANSI_ESCAPE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])|\x1b"
)


def strip_ansi(text: str) -> str:
    """`text` without terminal escape sequences."""
    return _ANSI_ESCAPE.sub("", text) if "\x1b" in text else text


class _Seconds:
    """A record's time to the second, formatted once per second (every access line asks)."""

    def __init__(self, fmt: str) -> None:
        self.fmt = fmt
        self.second = -1
        self.text = ""

    def __call__(self, formatter: logging.Formatter, record: logging.LogRecord) -> str:
        second = int(record.created)
        if second != self.second:  # a race between threads formats the same second twice
            self.text = formatter.formatTime(record, self.fmt)
            self.second = second
        return self.text


def _fields(record: logging.LogRecord) -> dict[str, object]:
    """`extra={"fields": {...}}` of the record, with its request id when it has one."""
    fields: dict[str, object] = dict(getattr(record, "fields", {}))
    request_id = getattr(record, "request_id", None)
    if request_id is not None:
        fields.setdefault("request_id", request_id)
    return fields


class JsonFormatter(logging.Formatter):
    """One JSON object per line; `extra={"fields": {...}}` adds structured fields.

    Terminal escapes are dropped: JSON goes to log collectors, where they are noise.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._time = _Seconds("%Y-%m-%dT%H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self._time(self, record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": strip_ansi(record.getMessage()),
            **_fields(record),
        }
        if record.exc_info:
            entry["exception"] = strip_ansi(self.formatException(record.exc_info))
        # orjson: a twentieth of json.dumps' 6 us, on every access line (UTF-8, not \u escapes).
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """One line a person reads: time, level, logger, message, then the fields as key=value."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._time = _Seconds("%Y-%m-%d %H:%M:%S")

    def format(self, record: logging.LogRecord) -> str:
        head = f"{self._time(self, record)} {record.levelname:<7} {record.name}:"
        fields = " ".join(f"{key}={_text_value(value)}" for key, value in _fields(record).items())
        line = " ".join(part for part in (head, record.getMessage(), fields) if part)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def _text_value(value: object) -> str:
    """As is, or quoted and escaped when it would split the line or hide in it."""
    text = str(value)
    if text and all(c.isprintable() and not c.isspace() for c in text):
        return text
    return json.dumps(text)


FORMATTERS: dict[LogFormat, type[logging.Formatter]] = {
    "json": JsonFormatter,
    "text": TextFormatter,
}


def handler(
    log_format: LogFormat, stream: IO[str] | None = None, *filters: logging.Filter
) -> logging.Handler:
    """A handler writing `log_format` lines to `stream` (stderr)."""
    made = logging.StreamHandler(stream or sys.stderr)
    made.setFormatter(FORMATTERS[log_format]())
    for added in filters:
        made.addFilter(added)
    return made


def configure(level: str, log_format: LogFormat, *filters: logging.Filter) -> None:
    """Our handler, alone on the root logger; configured again later (another app built in
    the same process), it takes the new format and keeps its filters."""
    root = logging.getLogger()
    ours = next((h for h in root.handlers if getattr(h, "_conduit", False)), None)
    if ours is None:
        ours = handler(log_format, None, *filters)
        ours._conduit = True  # type: ignore[attr-defined]
        root.handlers = [ours]
        root.setLevel(level)
    else:
        ours.setFormatter(FORMATTERS[log_format]())
