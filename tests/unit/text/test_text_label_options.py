"""Classifier options: pooled shrinkage toward keywords, label co-occurrence, threshold rules."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from lessonloop.errors import InputError
from lessonloop.text.classifier import FailureModeClassifier
from lessonloop.text.label_model import OutOfFold, choose_threshold, shrunk_blend
from lessonloop.text.shrinkage import choose_pseudo_count
from lessonloop.text.taxonomy import default_failure_taxonomy

TEMPLATES = {
    "security": "Attackers exploited a leaked token and breached the {x} service",
    "hardware": "A failed disk and a power supply fault took down the {x} rack",
    "time": "The leap second made the clock jump and {x} timestamps went wrong",
}
SERVICES = ["billing", "search", "login", "checkout", "api", "storage", "mail", "chat", "db"]


def _corpus() -> tuple[list[str], list[tuple[str, ...]]]:
    texts = [t.format(x=s) for t in TEMPLATES.values() for s in SERVICES]
    labels = [(label,) for label in TEMPLATES for _ in SERVICES]
    return texts, labels


def _fit(**params: object) -> FailureModeClassifier:
    texts, labels = _corpus()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return FailureModeClassifier(default_failure_taxonomy(), inner_folds=3, **params).fit(
            texts, labels
        )


def test_shrunk_blend_grows_with_positives() -> None:
    assert shrunk_blend(3, 0) == 1.0
    assert shrunk_blend(3, 3) == 0.5
    assert shrunk_blend(30, 10) > shrunk_blend(3, 10)
    assert shrunk_blend(0, 0) == 0.0


def test_pooled_pseudo_count_prefers_keywords_when_the_model_is_useless() -> None:
    truth = np.array([[1], [1], [0], [0], [1], [0]])
    prior = np.array([[0.9], [0.8], [0.1], [0.2], [0.9], [0.1]])
    useless = {0: OutOfFold(1.0, 1.0, 0.0, np.array([0.1, 0.2, 0.9, 0.8, 0.1, 0.9]))}
    useful = {0: OutOfFold(1.0, 1.0, 0.0, truth[:, 0] * 0.98 + 0.01)}
    assert choose_pseudo_count(useless, truth, prior, (0, 1, 10, 100)) == 100
    assert choose_pseudo_count(useful, truth, prior, (0, 1, 10, 100)) == 0


def test_half_best_f1_rule_cuts_at_half_the_best_f1() -> None:
    probabilities = np.array([0.9, 0.8, 0.3, 0.2, 0.1])
    truth = np.array([1, 1, 0, 0, 0])
    assert choose_threshold(probabilities, truth, 0.5, rule="half_best_f1") == 0.5
    assert 0.3 < choose_threshold(probabilities, truth, 0.5) < 0.8


@pytest.mark.parametrize(
    "params",
    [
        {"pseudo_count_grid": (0.0, 3.0, 30.0)},
        {"label_stacking": True},
        {"threshold_rule": "half_best_f1"},
    ],
)
def test_options_learn_and_survive_save_load(params: dict[str, object], tmp_path: Path) -> None:
    classifier = _fit(**params)
    predicted = classifier.predict(["Attackers breached the mail service with a stolen token"])
    assert predicted[0] == ("security",)
    classifier.save(str(tmp_path))
    loaded = FailureModeClassifier.load(str(tmp_path))
    texts = ["disk died in the rack", "clock jumped", "token leaked"]
    assert np.allclose(loaded.predict_proba(texts), classifier.predict_proba(texts))
    assert np.array_equal(loaded.thresholds(), classifier.thresholds())


def test_unknown_threshold_rule_is_an_input_error() -> None:
    with pytest.raises(InputError) as caught:
        _fit(threshold_rule="median")
    assert caught.value.field == "threshold_rule"


def test_self_training_adds_confident_unlabelled_texts(tmp_path: Path) -> None:
    texts, labels = _corpus()
    unlabeled = [t.format(x=s) for t in TEMPLATES.values() for s in ("vpn", "queue", "wiki")]
    unlabeled.append("Lunch menu for the offsite")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        plain = FailureModeClassifier(inner_folds=3).fit(texts, labels, unlabeled_texts=unlabeled)
        taught = FailureModeClassifier(inner_folds=3, self_training_confidence=0.6).fit(
            texts, labels, unlabeled_texts=unlabeled
        )
    assert plain.pseudo_labelled_ == 0
    assert 0 < taught.pseudo_labelled_ <= len(unlabeled)
    assert len(taught.train_ids_) == len(texts) + taught.pseudo_labelled_
    assert taught.train_ids_[-1].startswith("pseudo-")
    assert taught.predict(["A failed disk took down the vpn rack"])[0] == ("hardware",)
    taught.save(str(tmp_path))
    assert FailureModeClassifier.load(str(tmp_path)).self_training_confidence == 0.6
