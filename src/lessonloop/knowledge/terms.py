"""Turning user text into safe search terms: words only, no query syntax, no stop words.

Both engines receive only these terms (quoted for FTS5, as plain lexemes for PostgreSQL), so
quotes, ``NEAR``, ``*``, ``-`` or parentheses in a query can never reach the query parser.
The stop words are PostgreSQL's English list, so both engines see the same query.
"""

from __future__ import annotations

import re

__all__ = ["STOP_WORDS", "words", "query_terms"]

_STOP_WORD_TEXT = """
a about above after again against all am an and any are as at be because been before being
below between both but by can did do does doing don down during each few for from further had
has have having he her here hers herself him himself his how i if in into is it its itself just
me more most my myself no nor not now of off on once only or other our ours ourselves out over
own s same she should so some such t than that the their theirs them themselves then there these
they this those through to too under until up very was we were what when where which while who
whom why will with you your yours yourself yourselves
"""
STOP_WORDS = frozenset(_STOP_WORD_TEXT.split())

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
MAX_TERMS = 32
MAX_TERM_LENGTH = 64


def words(text: str) -> list[str]:
    """Lower-cased word tokens of ``text`` (letters and digits; everything else separates)."""
    return _WORD.findall(text.lower())


def query_terms(query: str) -> list[str]:
    """Distinct non-stop-word terms of a user query, in order, at most 32."""
    out: list[str] = []
    for word in words(query):
        if word in STOP_WORDS or len(word) > MAX_TERM_LENGTH or word in out:
            continue
        out.append(word)
        if len(out) == MAX_TERMS:
            break
    return out
