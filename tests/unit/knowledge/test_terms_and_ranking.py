"""Query sanitising, BM25 and taxonomy keyword matching (no database)."""

from __future__ import annotations

from collections import Counter

from lessonloop.knowledge.precedents import bm25_scores
from lessonloop.knowledge.taxonomy import TAXONOMIES, TaxonomyTerm, default_terms, matching_terms
from lessonloop.knowledge.terms import query_terms


def test_query_terms_strip_syntax_and_stop_words() -> None:
    assert query_terms('NEAR("disk" full) -latency* OR (the api)') == [
        "near",
        "disk",
        "full",
        "latency",
        "api",
    ]
    assert query_terms("") == [] and query_terms("the of and") == []
    assert query_terms("p99 Latency p99 LATENCY") == ["p99", "latency"]
    assert query_terms("x_y") == ["x", "y"]
    assert len(query_terms(" ".join(f"w{i}" for i in range(100)))) == 32


def test_bm25_prefers_rarer_terms_and_shorter_documents() -> None:
    corpus = {
        "a": Counter({"disk": 1, "full": 1}),
        "b": Counter({"disk": 1, "noise": 20}),
        "c": Counter({"latency": 3}),
    }
    scores = bm25_scores(Counter({"disk": 1, "full": 1}), corpus)
    assert set(scores) == {"a", "b"}
    assert scores["a"][0] > scores["b"][0]
    assert set(scores["a"][1]) == {"disk", "full"}
    rare = bm25_scores(Counter({"latency": 1, "disk": 1}), corpus)
    assert rare["c"][1]["latency"] > rare["a"][1]["disk"]
    assert bm25_scores(Counter({"x": 1}), {}) == {}


def test_taxonomy_keywords_match_words_phrases_and_prefixes() -> None:
    term = TaxonomyTerm("failure_mode", "memory leak", keywords=("oom*", "out of memory"))
    assert term.matches("Pods were OOMKilled")
    assert term.matches("ran out  of memory") and term.matches("a Memory-Leak in the cache")
    assert not term.matches("room for improvement")
    assert matching_terms([term], "failure_mode", "the heap leak") == []
    assert matching_terms([term], "remediation", "oom") == []


def test_defaults_cover_every_taxonomy_with_the_named_values() -> None:
    terms = default_terms()
    assert {t.taxonomy for t in terms} == set(TAXONOMIES)
    failure = {t.value for t in terms if t.taxonomy == "failure_mode"}
    assert {
        "bad config push",
        "capacity exhaustion",
        "dependency outage",
        "memory leak",
        "certificate expiry",
        "dns",
        "lock contention",
        "retry storm",
        "hardware",
        "security",
        "time",
    } <= failure
    remediation = {t.value for t in terms if t.taxonomy == "remediation"}
    assert {
        "rollback",
        "failover",
        "scale out",
        "restart",
        "config fix",
        "rate limit",
        "feature flag off",
    } <= remediation
    assert len({(t.taxonomy, t.value) for t in terms}) == len(terms)


def test_redaction_tokens_are_not_ranking_terms() -> None:
    from lessonloop.knowledge.precedents import _tokens

    assert _tokens("Acknowledged by <person:2528e2> (<email:7f3a2c>)") == ["acknowledged"]
