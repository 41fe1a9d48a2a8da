"""`CHANGELOG.md`: one section per release, written from the diff against the previous one."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from packaging.version import InvalidVersion, Version

from openapi.specdiff.document import Finding
from openapi.specdiff.gate import ROOT
from openapi.specdiff.rules import ADDED, BREAKING, CHANGED, RULES

CHANGELOG = ROOT / "CHANGELOG.md"
HEADER = """# Changelog

Every release of the Conduit API (`info.version` of `openapi/openapi.json`, which the SDKs in
`openapi/clients/` carry too), newest first. Each section is written by `make release-notes`
from `make spec-diff`: what changed against the previous release, grouped as the gate
classifies it. A paragraph written under a section's first line (what the release means, how
to upgrade) is kept when `make release-notes` rewrites the section; the lists are regenerated.
A pointer marked "(in X)" is into release X's document: the thing is gone.
"""
SHOWN = 4  # operations named per entry; the rest are counted


def _where(finding: Finding) -> str:
    if not finding.where:
        return ""
    more = len(finding.where) - SHOWN
    return (
        " (" + ", ".join(finding.where[:SHOWN]) + (f", and {more} more" if more > 0 else "") + ")"
    )


def entry(finding: Finding, baseline: str) -> str:
    place = f"`{finding.change.pointer}`" + (f" (in {baseline})" if finding.change.gone else "")
    return f"{place}: {finding.reason}{_where(finding)}"


def section(version: str, baseline: str, findings: Iterable[Finding]) -> str:
    """The Markdown section for `version`: Breaking, Added, Changed, same reasons collapsed."""
    groups: dict[str, dict[tuple[str, str], list[Finding]]] = defaultdict(lambda: defaultdict(list))
    for finding in findings:
        groups[RULES[finding.change.rule].group][
            (finding.change.rule, finding.change.detail)
        ].append(finding)
    kind = "major" if groups.get(BREAKING) else "minor" if groups else "patch"
    quiet = "" if groups else " No change to what clients send or read."
    lines = [f"## {version}", "", f"Against {baseline}: a {kind} release.{quiet}"]
    for group in (BREAKING, ADDED, CHANGED):
        if group not in groups:
            continue
        lines += ["", f"### {group}", ""]
        for same in groups[group].values():
            if len(same) <= 2:
                lines += [f"- {entry(finding, baseline)}" for finding in same]
                continue
            places = ", ".join(f"`{f.change.pointer}`" for f in same)
            lines.append(f"- {same[0].reason}; in {len(same)} places: {places}")
    return "\n".join(lines) + "\n"


def _version(part: str) -> Version:
    heading = (part.split("\n", 1)[0].removeprefix("## ").split() or ["?"])[0]
    try:
        return Version(heading)
    except InvalidVersion:
        return Version("0")


def _lead(part: str) -> str:
    """Paragraphs written by hand between the generated first one and the first group."""
    paragraphs = part.split("\n### ", 1)[0].split("\n\n")[2:]
    return "\n\n".join(paragraph.strip("\n") for paragraph in paragraphs if paragraph.strip())


def write(text: str, path: Path = CHANGELOG) -> None:
    """Put `text` in as its version's section: replacing it (keeping a hand-written lead), or
    among the others, newest first."""
    current = path.read_text() if path.exists() else HEADER
    head, *rest = re.split(r"(?m)^(?=## )", current)
    lead = next((_lead(part) for part in rest if _version(part) == _version(text)), "")
    if lead:
        first, group, groups = text.partition("\n\n### ")
        text = f"{first}\n\n{lead}{group}{groups}" if group else f"{text.rstrip()}\n\n{lead}\n"
    parts = [text, *(part for part in rest if _version(part) != _version(text))]
    parts.sort(key=_version, reverse=True)
    body = "\n".join(part.rstrip("\n") + "\n" for part in parts)
    path.write_text(head.rstrip("\n") + "\n\n" + body)
