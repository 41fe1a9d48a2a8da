"""The spec-diff gate: classify every change between two OpenAPI documents as breaking or not.

`rules.py` is the table a reviewer reads; `operations.py` and `schemas.py` find the changes
(through `shapes.py`, which follows `$ref`s and folds the ways of saying "nullable");
`gate.py` holds releases and versions; `changelog.py` and `upstream.py` the rest.
"""
