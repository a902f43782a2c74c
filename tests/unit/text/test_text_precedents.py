"""BM25 index, precedent retriever with feedback re-ranking, and remediation ranking."""

from __future__ import annotations

import numpy as np
import pytest

from lessonloop.errors import ConfigurationError, InputError, NotFound
from lessonloop.text.bm25 import BM25Index
from lessonloop.text.precedents import PrecedentDocument, PrecedentRetriever
from lessonloop.text.remediation import (
    ActionItemRecord,
    IncidentRemediation,
    RemediationRecommender,
)
from lessonloop.text.scoring import multilabel_f1, retrieval_scores
from lessonloop.text.semantic import load_sentence_encoder, semantic_available

DOCUMENTS = [
    PrecedentDocument("INC-1", "Leap second froze Cassandra", "clock jump", labels=("time",)),
    PrecedentDocument("INC-2", "Disk failure in rack 7", "disk controller died", labels=("hw",)),
    PrecedentDocument("INC-3", "Config push broke DNS", "bad dns record pushed", labels=("cfg",)),
    PrecedentDocument("INC-4", "Second DNS outage", "resolver config typo", labels=("cfg",)),
]


def test_bm25_prefers_rare_matching_terms_and_handles_empty_corpus() -> None:
    index = BM25Index().fit(["disk failure disk", "dns failure", "leap second"])
    scores = index.scores("disk failure")
    assert scores.argmax() == 0 and scores[2] == 0.0
    assert index.matched_terms("disk failure", 0)[0] == "disk"
    empty = BM25Index().fit(["", "   "])
    assert np.all(empty.scores("anything") == 0)


@pytest.mark.parametrize("backend", ["bm25", "tfidf"])
def test_retriever_ranks_the_obvious_precedent_first(backend: str) -> None:
    retriever = PrecedentRetriever(backend=backend).fit(DOCUMENTS)
    found = retriever.search("dns record push went wrong", k=2)
    assert found[0].incident_id == "INC-3"
    assert found[0].text_score == pytest.approx(1.0)
    assert retriever.search("dns", k=4, exclude=["INC-3"])[0].incident_id == "INC-4"


def test_feedback_raises_and_lowers_precedents_for_similar_queries() -> None:
    retriever = PrecedentRetriever(feedback_weight=2.0).fit(DOCUMENTS)
    query = "dns outage after a config push"
    before = [p.incident_id for p in retriever.search(query, k=4)]
    retriever.add_feedback(query, before[0], helpful=False)
    retriever.add_feedback(query, "INC-1", helpful=True)
    after = retriever.search("config push caused a dns outage", k=4)
    assert after[0].incident_id == "INC-1" and after[0].feedback_adjustment > 0
    assert [p.incident_id for p in after].index(before[0]) > 0
    unrelated = retriever.search("disk controller died", k=1)[0]
    assert unrelated.incident_id == "INC-2" and unrelated.feedback_adjustment == 0
    with pytest.raises(NotFound):
        retriever.add_feedback(query, "INC-404", helpful=True)


def test_label_probabilities_rerank_towards_shared_failure_modes() -> None:
    retriever = PrecedentRetriever(label_weight=5.0).fit(DOCUMENTS)
    found = retriever.search("outage", k=1, label_probabilities={"time": 0.9, "cfg": 0.1})
    assert found[0].incident_id == "INC-1" and found[0].label_score > 0.9


def test_retriever_rejects_bad_setup() -> None:
    with pytest.raises(InputError):
        PrecedentRetriever(backend="grep").fit(DOCUMENTS)
    with pytest.raises(InputError):
        PrecedentRetriever().fit(DOCUMENTS + [DOCUMENTS[0]])
    with pytest.raises(InputError):
        PrecedentRetriever().search("not indexed")


def test_semantic_backend_is_optional() -> None:
    if semantic_available():
        encode = load_sentence_encoder()
        assert encode(["a", "b"]).shape[0] == 2
    else:
        with pytest.raises(ConfigurationError):
            load_sentence_encoder()
    fake = PrecedentRetriever(backend="semantic", encoder=lambda texts: np.ones((len(texts), 3)))
    assert len(fake.fit(DOCUMENTS).search("x", k=3)) == 3


def test_remediations_rank_verified_fixes_above_failed_ones() -> None:
    history = [
        IncidentRemediation(
            "INC-3",
            ("validate-config",),
            (ActionItemRecord("Lint DNS zone files", "validate-config", "resolved", "improved"),),
        ),
        IncidentRemediation(
            "INC-4",
            ("canary-config",),
            (ActionItemRecord("Canary DNS pushes", "canary-config", "resolved", "worse"),),
        ),
        IncidentRemediation("INC-2", ("replace-hardware",)),
    ]
    recommender = RemediationRecommender().fit(DOCUMENTS, history)
    suggestions = recommender.recommend("dns config push outage")
    assert suggestions[0].remediation == "validate-config"
    assert suggestions[0].supporting[0].incident_id == "INC-3"
    assert suggestions[0].supporting[0].action_items == ("Lint DNS zone files",)
    assert "canary-config" not in [s.remediation for s in suggestions]
    with pytest.raises(InputError):
        ActionItemRecord("x", "y", status="maybe")


def test_scoring_functions() -> None:
    scores = multilabel_f1([("a",), ("a", "b")], [("a",), ("b",)], ["a", "b", "c"])
    assert scores["per_category_f1"] == {"a": pytest.approx(2 / 3), "b": 1.0, "c": 0.0}
    assert scores["macro_f1"] == pytest.approx((2 / 3 + 1) / 3)
    assert scores["micro_f1"] == pytest.approx(0.8)
    retrieval = retrieval_scores([[0, 1, 2, 3, 4, 5]], [[False, True, False, False, True, True]])
    assert retrieval == {"precision_at_5": pytest.approx(0.4), "mrr": pytest.approx(0.5)}


def test_random_retrieval_expectation_matches_enumeration() -> None:
    from itertools import permutations

    from lessonloop.text.scoring import random_retrieval_expectation

    relevant = [True, False, False, True, False]
    reciprocal = [
        1 / next(rank for rank, i in enumerate(order, 1) if relevant[i])
        for order in permutations(range(5))
    ]
    expected = random_retrieval_expectation([relevant])
    assert expected["mrr"] == pytest.approx(np.mean(reciprocal))
    assert expected["precision_at_5"] == pytest.approx(0.4)
