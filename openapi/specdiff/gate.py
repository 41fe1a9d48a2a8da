"""The release gate: which release is the baseline, and whether the version moved far enough.

SemVer for an API: a breaking change needs a major bump, a compatible one a minor bump, and a
released document is immutable (any other difference needs a patch bump). The SDKs carry the
spec's version, so they must equal `info.version`.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path

from packaging.version import InvalidVersion, Version

from openapi.specdiff.document import Finding

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT / "openapi" / "openapi.json"
RELEASES = ROOT / "openapi" / "releases"
PYTHON_SDK = ROOT / "openapi" / "clients" / "python" / "pyproject.toml"
TYPESCRIPT_SDK = ROOT / "openapi" / "clients" / "typescript" / "package.json"
WHERE_VERSIONS_LIVE = (
    'info.version is API_VERSION in api/app.py, the TypeScript SDK\'s is "version" in '
    "openapi/clients/typescript/package.json; then `make openapi sdk` (the Python SDK takes the "
    "spec's) and `make release-notes`"
)


class Bump(IntEnum):
    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3


def releases(directory: Path = RELEASES) -> dict[Version, Path]:
    """The released documents, `<version>.json`, by version."""
    found: dict[Version, Path] = {}
    for path in directory.glob("*.json"):
        try:
            found[Version(path.stem)] = path
        except InvalidVersion:
            continue
    return found


def baseline(current: str, directory: Path = RELEASES) -> tuple[Version, Path] | None:
    """The newest release at or below `current`: what a client of this line has today.

    "At or below", not "newest": a 1.x maintenance branch keeps comparing with 1.x releases
    after 2.0.0 is out, and a released version compares with itself (it must not change).
    """
    candidates = [
        (version, path)
        for version, path in releases(directory).items()
        if version <= Version(current)
    ]
    return max(candidates, default=None)


def sdk_versions(python: Path = PYTHON_SDK, typescript: Path = TYPESCRIPT_SDK) -> dict[str, str]:
    """The package versions of the generated SDKs (missing files read as "missing")."""
    found = {
        "Python SDK (openapi/clients/python/pyproject.toml)": "missing",
        "TypeScript SDK (openapi/clients/typescript/package.json)": "missing",
    }
    keys = list(found)
    if python.exists():
        found[keys[0]] = str(tomllib.loads(python.read_text())["project"]["version"])
    if typescript.exists():
        found[keys[1]] = str(json.loads(typescript.read_text())["version"])
    return found


def required(findings: Iterable[Finding], *, differs: bool) -> Bump:
    """The smallest bump these findings allow (`differs`: the document is not byte-identical)."""
    findings = list(findings)
    if any(finding.breaking for finding in findings):
        return Bump.MAJOR
    if findings:
        return Bump.MINOR
    return Bump.PATCH if differs else Bump.NONE


def bump(old: Version, new: Version) -> Bump:
    if new.major != old.major:
        return Bump.MAJOR
    if new.minor != old.minor:
        return Bump.MINOR
    return Bump.PATCH if new != old else Bump.NONE


def next_version(old: Version, needed: Bump) -> str:
    if needed is Bump.MAJOR:
        return f"{old.major + 1}.0.0"
    if needed is Bump.MINOR:
        return f"{old.major}.{old.minor + 1}.0"
    return f"{old.major}.{old.minor}.{old.micro + 1}"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    message: str


def _why(needed: Bump, findings: list[Finding], old: Version) -> str:
    breaking = [finding for finding in findings if finding.breaking]
    if needed is Bump.MAJOR:
        first = breaking[0]
        more = f" and {len(breaking) - 1} more" if len(breaking) > 1 else ""
        verb = "need" if more else "needs"
        return (
            f"a breaking change ({first.change.pointer}: {first.reason}){more} over release "
            f"{old} {verb} a major bump"
        )
    if needed is Bump.MINOR:
        count = (
            f"{len(findings)} compatible changes" if len(findings) > 1 else "a compatible change"
        )
        return f"{count} (additions or relaxations) over release {old} need at least a minor bump"
    return f"the document differs from release {old}, which never changes: it needs at least a patch bump"


def gate(
    baseline_version: str,
    current_version: str,
    findings: Iterable[Finding],
    sdks: Mapping[str, str],
    *,
    differs: bool = True,
) -> Verdict:
    """Pass when the version moved at least as far as the changes need, and the SDKs follow it.

    `differs`: the document is not byte-for-byte the baseline release (annotations changed).
    """
    findings = list(findings)
    old, new = Version(baseline_version), Version(current_version)
    needed, made = required(findings, differs=differs), bump(old, new)
    problems = []
    if new < old:
        problems.append(f"info.version {new} is lower than the baseline release {old}")
    elif made < needed:
        got = "no bump" if made is Bump.NONE else f"only a {made.name.lower()} bump"
        problems.append(
            f"{_why(needed, findings, old)}, but {old} -> {new} is {got}. "
            f"Set the version to {next_version(old, needed)}: {WHERE_VERSIONS_LIVE}"
        )
    for name, version in sdks.items():
        if version != current_version:
            problems.append(
                f"{name} has version {version}, info.version is {current_version}: they must be "
                f"equal. {WHERE_VERSIONS_LIVE}"
            )
    if problems:
        return Verdict(False, "\n".join(f"gate: FAIL: {problem}" for problem in problems))
    if made is Bump.NONE:
        summary = f"{new} is the released document, unchanged"
    else:
        summary = (
            f"{old} -> {new} is a {made.name.lower()} bump; the changes need {needed.name.lower()}"
        )
    return Verdict(True, f"gate: OK: {summary}; the SDKs are at {current_version}")
