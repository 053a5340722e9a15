"""Near names: the "did you mean" every bad-input message offers where a known word is close."""

from __future__ import annotations

import difflib
from typing import Iterable


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` if `word` is near one of `choices`, else ``""``."""
    near = difflib.get_close_matches(str(word)[:100], list(choices), n=1, cutoff=0.6)
    return f" (did you mean {near[0]!r}?)" if near else ""
