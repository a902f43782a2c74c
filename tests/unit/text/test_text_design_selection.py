"""Design choices by inner CV: the feature view and the threshold rule, pooled over labels."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from lessonloop.text.classifier import FailureModeClassifier
from lessonloop.text.design_selection import (
    choose_feature_view,
    choose_threshold_rule,
    cross_validated_f1,
    rethreshold_by_inner_cv,
)
from lessonloop.text.label_model import LabelModel
from lessonloop.text.neighbour_vote import mix_votes, neighbour_votes
from lessonloop.text.taxonomy import default_failure_taxonomy


def _views(n: int = 40) -> tuple[dict[tuple[float, float], sp.csr_matrix], np.ndarray]:
    rng = np.random.default_rng(0)
    truth = np.zeros((n, 2), dtype=int)
    truth[: n // 2, 0] = 1
    truth[::2, 1] = 1
    noise = rng.random((n, 6))
    signal = np.column_stack([truth, noise[:, :4]]).astype(float)
    return {(0.0, 1.0): sp.csr_matrix(noise), (1.0, 0.0): sp.csr_matrix(signal)}, truth


TEMPLATES = {
    "security": "Attackers exploited a leaked token and breached the {x} service",
    "hardware": "A failed disk and a power supply fault took down the {x} rack",
    "time": "The leap second made the clock jump and {x} timestamps went wrong",
}
SERVICES = ["billing", "search", "login", "checkout", "api", "storage", "mail", "chat"]


def _corpus(*modes: str) -> tuple[list[str], list[tuple[str, ...]]]:
    """Eight texts per failure mode (one per service) and their labels."""
    texts = [TEMPLATES[mode].format(x=service) for mode in modes for service in SERVICES]
    return texts, [(mode,) for mode in modes for _ in SERVICES]


def test_feature_view_with_the_signal_wins_and_reports_its_out_of_fold() -> None:
    matrices, truth = _views()
    view, results = choose_feature_view(
        matrices, truth, c_grid=(1.0,), inner_folds=3, min_positive=3, seed=0
    )
    assert view == (1.0, 0.0)
    assert set(results) == {0, 1}
    assert all(r.average_precision > 0.9 for r in results.values())


def test_cross_validated_f1_is_high_for_separable_scores_and_zero_without_positives() -> None:
    truth = np.array([1, 0] * 10)
    scores = truth * 0.8 + 0.1
    assert cross_validated_f1(scores, truth, "plateau", folds=5, seed=0) == 1.0
    assert cross_validated_f1(scores, np.zeros(20, dtype=int), "plateau", folds=5, seed=0) == 0.0


def test_threshold_rule_choice_follows_the_cross_validated_f1() -> None:
    # Calibrated-looking scores: positives around 0.35, negatives around 0.1 -> the plateau
    # cut (between the groups) generalises; half the best F1 (0.5) predicts nothing.
    truth = np.array([1] * 10 + [0] * 30)
    scores = np.where(truth == 1, 0.35, 0.1) + np.linspace(0, 0.01, 40)
    assert choose_threshold_rule(
        [(scores, truth)], ("half_best_f1", "plateau"), folds=5, seed=0
    ) == ("plateau")
    assert choose_threshold_rule([], ("half_best_f1", "plateau"), folds=5, seed=0) == "half_best_f1"


def test_rethreshold_leaves_keyword_labels_alone() -> None:
    truth = np.column_stack([np.array([1] * 10 + [0] * 30), np.zeros(40, dtype=int)])
    scores = np.where(truth[:, 0] == 1, 0.35, 0.1)
    learned = LabelModel("a", "model", 10, threshold=0.9, out_of_fold=scores)
    keywords = LabelModel("b", "keywords", 0, threshold=0.5)
    rule = rethreshold_by_inner_cv([learned, keywords], truth, folds=5, seed=0)
    assert rule == "plateau"
    assert 0.1 < learned.threshold < 0.35
    assert keywords.threshold == 0.5


def test_classifier_records_its_choices_and_keeps_them_through_save_load(tmp_path: Path) -> None:
    texts, labels = _corpus("security", "hardware", "time")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        classifier = FailureModeClassifier(default_failure_taxonomy(), inner_folds=3).fit(
            texts, labels
        )
    assert classifier.feature_view_ in classifier.feature_views
    assert classifier.threshold_rule_ in ("half_best_f1", "plateau")
    assert classifier.predict(["Attackers breached the chat service with a stolen token"]) == [
        ("security",)
    ]
    classifier.save(str(tmp_path))
    loaded = FailureModeClassifier.load(str(tmp_path))
    assert loaded.feature_view_ == classifier.feature_view_
    assert loaded.threshold_rule_ == classifier.threshold_rule_
    probe = ["disk died in the rack", "clock jumped", "token leaked"]
    assert np.allclose(loaded.predict_proba(probe), classifier.predict_proba(probe))
    assert np.array_equal(loaded.thresholds(), classifier.thresholds())


def test_neighbour_votes_share_of_similar_labelled_rows_without_self() -> None:
    train = sp.csr_matrix(np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]]))
    truth = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
    votes = neighbour_votes(train, train, truth, k=1, leave_one_out=True)
    assert np.array_equal(votes, truth.astype(float))
    query = sp.csr_matrix(np.array([[0.0, 0.0]]))
    assert np.allclose(neighbour_votes(query, train, truth, k=2), truth.mean(axis=0))
    assert neighbour_votes(query, train, truth, k=0).shape == (1, 2)


def test_mix_votes_only_touches_learned_labels() -> None:
    prior = np.array([[0.2, 0.4]])
    votes = np.array([[1.0, 1.0]])
    assert np.allclose(mix_votes(prior, votes, np.array([True, False])), [[0.6, 0.4]])


@pytest.mark.parametrize("params", [{"inner_repeats": 2}, {"neighbour_k": 3}])
def test_repeated_inner_cv_and_neighbour_votes_learn(params: dict[str, object]) -> None:
    texts, labels = _corpus("hardware", "time")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        classifier = FailureModeClassifier(inner_folds=3, **params).fit(texts, labels)  # type: ignore[arg-type]
    assert classifier.predict(["the disk in the rack failed", "leap second clock jump"]) == [
        ("hardware",),
        ("time",),
    ]
