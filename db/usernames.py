"""What makes two usernames the same: Unicode NFKC, case folding and look-alike characters.

`username_key` is stored beside the username with a unique index, so the database decides
races: `ALICE` after `alice`, and `alice` with a Cyrillic `a` (U+0430) after both, are the same
name. It follows
Unicode TS #39's idea of a skeleton, with the confusables data of `confusable_homoglyphs`:
each non-ASCII character that looks like an ASCII letter or digit is replaced by it.
"""

from __future__ import annotations

import unicodedata
from functools import cache

from confusable_homoglyphs import categories, confusables

# Scripts whose letters pass for one another; a name may use at most one of them.
CONFUSABLE_SCRIPTS = frozenset({"LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "CHEROKEE", "COPTIC"})


def normalized(name: str) -> str:
    """The form a username is stored and shown in (NFKC: a full-width `A`, U+FF21, is `A`)."""
    return unicodedata.normalize("NFKC", name)


@cache
def _ascii_lookalike(char: str) -> str:
    homoglyphs = confusables.confusables_data.get(char, [])
    candidates = sorted(
        h["c"].casefold()
        for h in homoglyphs
        if len(h["c"]) == 1 and h["c"].isascii() and h["c"].isalnum()
    )
    return candidates[0] if candidates else char


def username_key(name: str) -> str:
    """The skeleton two usernames share when a reader could not tell them apart."""
    folded = normalized(name).casefold()
    return "".join(
        c if c.isascii() else _ascii_lookalike(c) for c in unicodedata.normalize("NFKC", folded)
    )


def mixes_scripts(name: str) -> bool:
    """Whether the name mixes scripts whose letters look alike (Latin `a` with Cyrillic U+0430)."""
    return len(categories.unique_aliases(name) & CONFUSABLE_SCRIPTS) > 1
