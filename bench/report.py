"""The report: a table on stdout, targets met or not, and the same as JSON in bench/results/."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from bench.wrk import Result

Ceiling = Literal["sql", "static"]
CEILING_NAMES: dict[Ceiling, str] = {"sql": "raw-SQL ceiling", "static": "static ceiling"}
READ_P99_MS = 100.0


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    kind: Literal["read", "write"]
    ceiling: Ceiling | None = None  # the ceiling its target compares it with
    target_ratio: float | None = None


# The scenarios in the order they run, with the targets.
SCENARIOS = [
    Scenario("tags", "read", "static", 0.3),
    Scenario("list anonymous", "read", "sql", 0.5),
    Scenario("list authenticated", "read", "sql", 0.4),
    Scenario("list by tag", "read", "sql", 0.5),
    Scenario("feed", "read", "sql", 0.4),
    Scenario("single article", "read", "static", 0.3),
    Scenario("comments", "read", "static", 0.3),
    Scenario("login", "write"),
    Scenario("create article", "write"),
]


@dataclass(frozen=True, slots=True)
class Target:
    description: str
    met: bool
    detail: str


def ratio(result: Result, ceiling: Result | None) -> float | None:
    if ceiling is None or not ceiling.rps:
        return None
    return round(result.rps / ceiling.rps, 3)


def targets(results: dict[str, Result], ceilings: dict[Ceiling, Result]) -> list[Target]:
    found: list[Target] = []
    for scenario in SCENARIOS:
        result = results.get(scenario.name)
        if result is None or scenario.ceiling is None or scenario.target_ratio is None:
            continue
        value = ratio(result, ceilings.get(scenario.ceiling))
        found.append(
            Target(
                f"{scenario.name} >= {scenario.target_ratio}x {CEILING_NAMES[scenario.ceiling]}",
                value is not None and value >= scenario.target_ratio,
                "no ceiling measured" if value is None else f"{value:.2f}x",
            )
        )
    reads = {s.name: results[s.name] for s in SCENARIOS if s.kind == "read" and s.name in results}
    slow = {name: r.p99_ms for name, r in reads.items() if r.p99_ms > READ_P99_MS}
    found.append(
        Target(
            f"p99 <= {READ_P99_MS:g} ms on reads",
            not slow,
            ", ".join(f"{n}: {ms:.1f} ms" for n, ms in slow.items())
            or f"worst {max((r.p99_ms for r in reads.values()), default=0):.1f} ms",
        )
    )
    failing = {
        n: r.non2xx + r.socket_errors for n, r in results.items() if r.non2xx or r.socket_errors
    }
    found.append(
        Target(
            "0 non-2xx (and no socket errors)",
            not failing,
            ", ".join(f"{n}: {count}" for n, count in failing.items()) or "none",
        )
    )
    return found


def _format_ratio(value: float | None, marked: bool) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}x" + ("*" if marked else "")


def table(results: dict[str, Result], ceilings: dict[Ceiling, Result]) -> str:
    """Scenarios, then ceilings; `*` marks the ratio a scenario's target is about."""
    header = ("scenario", "req/s", "p50 ms", "p99 ms", "non-2xx", "vs raw SQL", "vs static")
    rows: list[tuple[str, ...]] = []
    for scenario in SCENARIOS:
        r = results.get(scenario.name)
        if r is None:
            continue
        rows.append(
            (
                scenario.name,
                f"{r.rps:.1f}",
                f"{r.p50_ms:.2f}",
                f"{r.p99_ms:.2f}",
                str(r.non2xx + r.socket_errors),
                _format_ratio(ratio(r, ceilings.get("sql")), scenario.ceiling == "sql"),
                _format_ratio(ratio(r, ceilings.get("static")), scenario.ceiling == "static"),
            )
        )
    for key, r in ceilings.items():
        rows.append(
            (
                f"[{CEILING_NAMES[key]}]",
                f"{r.rps:.1f}",
                f"{r.p50_ms:.2f}",
                f"{r.p99_ms:.2f}",
                str(r.non2xx + r.socket_errors),
                "",
                "",
            )
        )
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return "\n".join([line(header), "  ".join("-" * w for w in widths), *map(line, rows)])


def targets_text(found: list[Target]) -> str:
    return "\n".join(
        f"  [{'met' if t.met else 'NOT MET'}] {t.description}: {t.detail}" for t in found
    )


def rss_text(rss: dict[str, dict[int, int]]) -> str:
    lines = []
    for stage, workers in rss.items():
        cells = ", ".join(
            f"pid {pid}: {kib / 1024:.1f} MiB" for pid, kib in sorted(workers.items())
        )
        lines.append(f"  {stage}: {cells}")
    return "\n".join(lines)


def document(
    results: dict[str, Result],
    ceilings: dict[Ceiling, Result],
    **extra: Any,
) -> dict[str, Any]:
    """Everything the run measured, JSON-ready."""
    return {
        "scenarios": {
            s.name: {
                **results[s.name].to_dict(),
                "kind": s.kind,
                "vs_raw_sql": ratio(results[s.name], ceilings.get("sql")),
                "vs_static": ratio(results[s.name], ceilings.get("static")),
            }
            for s in SCENARIOS
            if s.name in results
        },
        "ceilings": {CEILING_NAMES[k]: r.to_dict() for k, r in ceilings.items()},
        "targets": [
            {"target": t.description, "met": t.met, "detail": t.detail}
            for t in targets(results, ceilings)
        ],
        **extra,
    }


def save(directory: Path, stamp: str, data: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{stamp}.json"
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")
    return path
