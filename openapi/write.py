"""Write the OpenAPI document deterministically; `--check` fails when the file is stale."""

from __future__ import annotations

import argparse
import difflib
import json
import os
import sys
from pathlib import Path
from typing import Any


def render() -> str:
    """The spec as committed: sorted keys, two-space indent, trailing newline."""
    os.environ.setdefault("DATABASE_URL", "sqlite://")  # building the spec touches no database
    from api import create_app

    app = create_app()
    spec: dict[str, Any] = app.extensions["flask-smorest"]["apis"][""]["ext_obj"].spec.to_dict()
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path", type=Path)
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = args.path.read_text() if args.path.exists() else ""
        if current != text:
            sys.stdout.writelines(
                difflib.unified_diff(
                    current.splitlines(True), text.splitlines(True), str(args.path), "generated"
                )
            )
            print(f"\n{args.path} is stale: run `make openapi` and commit it.", file=sys.stderr)
            return 1
        print(f"{args.path} is up to date")
        return 0
    args.path.write_text(text)
    print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
