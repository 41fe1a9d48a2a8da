"""Log lines, readable text or JSON, one per record: the app's (api/pipeline/observability.py)
and gunicorn's master's own (deploy/gunicorn-logging.json) alike."""

from __future__ import annotations

import json
import logging
import re
import sys
from typing import IO

import orjson

from core.settings import LogFormat

# CSI (colors: werkzeug's request lines), OSC, and two-character escapes; then any stray ESC.
_ANSI_ESCAPE = re.compile(
    r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|[@-Z\\-_])|\x1b"
)


def strip_ansi(text: str) -> str:
    """`text` without terminal escape sequences."""
    return _ANSI_ESCAPE.sub("", text)


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

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
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

    def format(self, record: logging.LogRecord) -> str:
        head = (
            f"{self.formatTime(record, '%Y-%m-%d %H:%M:%S')} {record.levelname:<7} {record.name}:"
        )
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
