"""The bottom floor: what `api/` and `db/` both build on (settings), importing neither."""
