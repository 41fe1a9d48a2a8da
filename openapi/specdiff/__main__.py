"""`python -m openapi.specdiff`: the spec-diff gate, release notes and release cutting.

check          (make spec-diff) the committed spec against its baseline release: every
               change classified, the version gate, upstream conformance; exit 1 on failure
diff OLD NEW   the classified changes between any two documents (JSON or YAML)
notes          (make release-notes) write CHANGELOG.md's section for the current version
cut            record the current spec as a release: openapi/releases/<version>.json
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from packaging.version import Version

from openapi.specdiff import changelog
from openapi.specdiff.document import Document, Finding, SpecError
from openapi.specdiff.gate import (
    RELEASES,
    ROOT,
    SPEC,
    Verdict,
    baseline,
    gate,
    releases,
    sdk_versions,
)
from openapi.specdiff.operations import diff
from openapi.specdiff.upstream import UPSTREAM, conformance

SHOWN = 3  # operations named per finding; the rest are counted


def _name(path: Path) -> str:
    """Relative to the checkout when it is in it or beside it (../shared/...), else absolute."""
    relative = os.path.relpath(path.resolve(), ROOT)
    return str(path.resolve()) if relative.startswith("../..") else relative


def line(finding: Finding, baseline_version: str) -> str:
    """One finding on one line: severity, pointer, reason, rule and the operations it reaches."""
    change = finding.change
    where = f"{change.pointer} (in {baseline_version})" if change.gone else change.pointer
    reach = ", ".join(finding.where[:SHOWN]) + (
        f" +{len(finding.where) - SHOWN}" if len(finding.where) > SHOWN else ""
    )
    tail = f"[{change.rule}{'; ' + reach if reach else ''}]"
    return (
        f"  {'BREAKING  ' if finding.breaking else 'compatible'}  {where}  {finding.reason}  {tail}"
    )


def report(findings: list[Finding], baseline_version: str) -> list[str]:
    breaking = [f for f in findings if f.breaking]
    compatible = [f for f in findings if not f.breaking]
    lines = [f"{len(breaking)} breaking, {len(compatible)} compatible"]
    lines += [line(finding, baseline_version) for finding in breaking + compatible]
    return lines


def _baseline(spec: Document, directory: Path, *, below: bool = False) -> tuple[str, Path]:
    """The release to compare with: at or below the spec's version (`below`: strictly)."""
    found = baseline(spec.version, directory)
    if below and found is not None and found[0] == Version(spec.version):
        older = {
            version: path for version, path in releases(directory).items() if version < found[0]
        }
        found = max(older.items(), default=None)
    if found is None:
        where = _name(directory)
        raise SpecError(
            f"no release at or below {spec.version} in {where}: nothing to compare with"
        )
    return found[1].stem, found[1]


def check(args: argparse.Namespace) -> int:
    spec = Document.load(args.spec, name=_name(args.spec))
    old_version, old_path = _baseline(spec, args.releases)
    old = Document.load(old_path, name=_name(old_path))
    findings = diff(old, spec)
    print(f"spec-diff: {spec.name} ({spec.version}) against release {old.name} ({old_version})")
    print("\n".join(report(findings, old_version)))
    differs = args.spec.read_bytes() != old_path.read_bytes()
    verdict: Verdict = gate(old_version, spec.version, findings, sdk_versions(), differs=differs)
    print(verdict.message)
    ok = verdict.ok
    if args.upstream is None or not args.upstream.exists():
        print(
            f"upstream: skipped: {args.upstream or UPSTREAM} is absent (a clone of this repository alone)"
        )
    else:
        upstream = Document.load(args.upstream, name=_name(args.upstream))
        coverage = conformance(spec, upstream)
        for problem in coverage.problems:
            print(f"upstream: FAIL: {problem}")
        if not coverage.problems:
            print(
                f"upstream: OK: ours covers all {coverage.operations} operations of {upstream.name} "
                f"({upstream.version}): status codes, required fields, optional request fields"
            )
        ok = ok and not coverage.problems
    return 0 if ok else 1


def compare(args: argparse.Namespace) -> int:
    old, new = Document.load(args.old), Document.load(args.new)
    print(f"spec-diff: {new.name} ({new.version}) against {old.name} ({old.version})")
    print("\n".join(report(diff(old, new), old.version)))
    return 0


def notes(args: argparse.Namespace) -> int:
    spec = Document.load(args.spec, name=_name(args.spec))
    old_version, old_path = _baseline(spec, args.releases, below=True)
    old = Document.load(old_path, name=_name(old_path))
    changelog.write(changelog.section(spec.version, old_version, diff(old, spec)), args.changelog)
    print(
        f"release-notes: wrote the {spec.version} section (against {old_version}) of {_name(args.changelog)}"
    )
    return 0


def cut(args: argparse.Namespace) -> int:
    spec = Document.load(args.spec, name=_name(args.spec))
    target = args.releases / f"{spec.version}.json"
    if check(args) != 0:
        print(f"cut: not releasing {spec.version}: the gate fails", file=sys.stderr)
        return 1
    text = args.changelog.read_text() if args.changelog.exists() else ""
    if f"\n## {spec.version}\n" not in text:
        print(
            f"cut: CHANGELOG.md has no {spec.version} section: run `make release-notes` first",
            file=sys.stderr,
        )
        return 1
    if target.exists() and target.read_bytes() != args.spec.read_bytes():
        print(f"cut: {_name(target)} exists and differs: a release never changes", file=sys.stderr)
        return 1
    target.write_bytes(args.spec.read_bytes())
    print(f"cut: wrote {_name(target)}; commit it with CHANGELOG.md and tag v{spec.version}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m openapi.specdiff",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--spec", type=Path, default=SPEC)
    parser.add_argument("--releases", type=Path, default=RELEASES)
    parser.add_argument("--upstream", type=Path, default=UPSTREAM)
    parser.add_argument("--changelog", type=Path, default=changelog.CHANGELOG)
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("check")
    pair = commands.add_parser("diff")
    pair.add_argument("old", type=Path)
    pair.add_argument("new", type=Path)
    commands.add_parser("notes")
    commands.add_parser("cut")
    args = parser.parse_args(argv)
    run = {"diff": compare, "notes": notes, "cut": cut}.get(args.command or "check", check)
    try:
        return run(args)
    except SpecError as error:
        print(f"spec-diff: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
