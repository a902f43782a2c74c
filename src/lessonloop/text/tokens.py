"""Word tokens for ranking, with Chinese, Japanese and Korean text split into character pairs.

Those scripts do not separate words by spaces, so a whole sentence arrives as one "word" and
would only ever match itself. Overlapping character pairs (bigrams) are the usual way to match
such text without a dictionary; text in other scripts is left as it is.
"""

from __future__ import annotations

import re

from lessonloop.domain.common import REDACTION_TOKEN

__all__ = ["has_cjk", "split_cjk", "tokenize"]

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff"
_CJK_RUN = re.compile(f"[{_CJK}]+")
_TOKEN = re.compile(r"(?u)\b[^\W_][\w\-]*\b")


def has_cjk(text: str) -> bool:
    """Whether the text contains Chinese, Japanese or Korean characters."""
    return _CJK_RUN.search(text) is not None


def split_cjk(token: str) -> list[str]:
    """The token with each run of CJK characters replaced by its overlapping character pairs."""
    if not has_cjk(token):
        return [token]
    out: list[str] = []
    position = 0
    for run in _CJK_RUN.finditer(token):
        if run.start() > position:
            out.append(token[position : run.start()])
        chars = run.group()
        pairs = [chars[i : i + 2] for i in range(len(chars) - 1)]
        out.extend(pairs or [chars])
        position = run.end()
    if position < len(token):
        out.append(token[position:])
    return out


def tokenize(text: str) -> list[str]:
    """Word tokens (letters, digits, inner hyphens) of already lower-cased text, CJK as pairs.
    Redaction tokens (``<person:2528e2>``) are left out: every text naming someone would
    otherwise share the word ``person``."""
    text = REDACTION_TOKEN.sub(" ", text)
    return [piece for token in _TOKEN.findall(text) for piece in split_cjk(token)]
