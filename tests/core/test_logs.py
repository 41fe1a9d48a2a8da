"""core/logs.py: the formatters' lines."""

from __future__ import annotations

import json
import logging

import pytest

from core.logs import JsonFormatter, TextFormatter, strip_ansi


def _record(created: float, message: str = "hello") -> logging.LogRecord:
    record = logging.LogRecord("conduit.test", logging.INFO, __file__, 1, message, (), None)
    record.created = created
    return record


@pytest.mark.parametrize(
    ("formatter", "fmt"),
    [(JsonFormatter(), "%Y-%m-%dT%H:%M:%S"), (TextFormatter(), "%Y-%m-%d %H:%M:%S")],
)
def test_each_line_has_its_own_second(formatter: logging.Formatter, fmt: str) -> None:
    """The time text is formatted once per second, and is always the record's own."""
    base = 1_800_000_000.0
    for created in (base, base + 0.2, base + 0.999, base + 1.0, base - 5, base + 3600.5):
        line = formatter.format(_record(created))
        expected = formatter.formatTime(_record(created), fmt)
        shown = json.loads(line)["time"] if isinstance(formatter, JsonFormatter) else line[:19]
        assert shown == expected, created


def test_escapes_are_stripped_and_plain_text_kept() -> None:
    assert strip_ansi("\x1b[31mred\x1b[0m and plain") == "red and plain"
    plain = "no escapes here"
    assert strip_ansi(plain) is plain
    assert json.loads(JsonFormatter().format(_record(0, "\x1b[1mbold\x1b[0m")))["message"] == "bold"
