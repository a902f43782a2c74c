"""Tokens for ranking: CJK runs become character pairs; other text is tokenised as before."""

from __future__ import annotations

import re

from lessonloop.text.bm25 import BM25Index
from lessonloop.text.tokens import has_cjk, split_cjk, tokenize

# The token pattern BM25 used before CJK splitting (scikit-learn's, with inner hyphens).
OLD_PATTERN = re.compile(r"(?u)\b[^\W_][\w\-]*\b")


def test_cjk_runs_become_overlapping_pairs() -> None:
    assert split_cjk("ロック待ち") == ["ロッ", "ック", "ク待", "待ち"]
    assert split_cjk("db接続") == ["db", "接続"]
    assert split_cjk("停") == ["停"]
    assert split_cjk("timeout") == ["timeout"]
    assert has_cjk("데이터베이스") and not has_cjk("блокировка")


def test_other_scripts_tokenise_exactly_as_before() -> None:
    for text in (
        "pods oom-killed after the 2.3 release; p99 latency 800ms",
        "блокировки базы данных остановили оформление заказа",
        "café déjà-vu __init__ x_y",
    ):
        assert tokenize(text) == OLD_PATTERN.findall(text)


def test_bm25_ranks_japanese_by_shared_pairs() -> None:
    index = BM25Index().fit(
        [
            "データベースのロック待ちでチェックアウトが停止した",
            "キャッシュの期限切れで検索が遅くなった",
        ]
    )
    scores = index.scores("ロック待ちで止まった")
    assert scores[0] > scores[1] >= 0


def test_redaction_tokens_are_not_words() -> None:
    """Two texts naming different (redacted) people must not match on the word 'person'."""
    text = "paged <person:2528e2> and <email:7f3a2c0b> about the db-pool"
    assert tokenize(text) == ["paged", "and", "about", "the", "db-pool"]
    index = BM25Index().fit(["<person:aaaaaa> restarted the api", "disk full on batch"])
    assert index.scores("<person:bbbbbb> was paged").max() == 0.0
    assert index.matched_terms("<person:aaaaaa> api", 0) == ("api",)


def test_the_domain_knows_redaction_tokens_as_redact_writes_them() -> None:
    from lessonloop.domain.common import REDACTION_TOKEN
    from lessonloop.redact import TOKEN_PATTERN

    assert REDACTION_TOKEN.pattern == TOKEN_PATTERN.pattern
