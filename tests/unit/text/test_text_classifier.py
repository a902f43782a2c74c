"""Failure-mode classifier: zero-label baseline, learning, evidence, edge inputs, save/load."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from lessonloop.errors import InputError
from lessonloop.text.classifier import FailureModeClassifier
from lessonloop.text.taxonomy import Taxonomy, default_failure_taxonomy

TEMPLATES = {
    "security": "Attackers exploited a leaked token and breached the {x} service",
    "hardware": "A failed disk and a power supply fault took down the {x} rack",
    "time": "The leap second made the clock jump and {x} timestamps went wrong",
}
SERVICES = ["billing", "search", "login", "checkout", "api", "storage", "mail", "chat", "db"]


def corpus() -> tuple[list[str], list[tuple[str, ...]]]:
    texts, labels = [], []
    for label, template in TEMPLATES.items():
        for service in SERVICES:
            texts.append(template.format(x=service))
            labels.append((label,))
    return texts, labels


@pytest.fixture(scope="module")
def fitted() -> FailureModeClassifier:
    texts, labels = corpus()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return FailureModeClassifier(default_failure_taxonomy(), inner_folds=3).fit(
            texts, labels, ids=[f"doc-{i}" for i in range(len(texts))]
        )


def test_zero_label_baseline_suggests_obvious_labels() -> None:
    classifier = FailureModeClassifier(default_failure_taxonomy()).fit([], [])
    predicted = classifier.predict(
        [
            "A DDoS attack and leaked credentials compromised the login service",
            "The leap second confused NTP and clocks drifted",
            "Disk failure after a power outage in the data center rack",
        ]
    )
    assert "security" in predicted[0]
    assert "time" in predicted[1]
    assert "hardware" in predicted[2]
    assert "time" not in predicted[0]


def test_fit_predict_recovers_labels_and_probabilities_are_bounded(
    fitted: FailureModeClassifier,
) -> None:
    predicted = fitted.predict(["Attackers breached the reporting service with a stolen token"])
    assert predicted[0] == ("security",)
    probabilities = fitted.predict_proba(["anything at all", "disk died"])
    assert probabilities.shape == (2, len(fitted.labels))
    assert np.all((probabilities >= 0) & (probabilities <= 1))


def test_suggestions_carry_evidence(fitted: FailureModeClassifier) -> None:
    best = fitted.suggest("A failed disk took down the payments rack")[0]
    assert best.label == "hardware" and best.suggested
    assert best.top_terms, "the model's contributing terms are missing"
    assert "disk*" in best.keyword_hits
    assert best.neighbours and best.neighbours[0][0].startswith("doc-")


def test_label_with_too_few_examples_falls_back_to_keywords(fitted: FailureModeClassifier) -> None:
    assert fitted.label_models_["cloud"].mode == "keywords"
    assert fitted.label_models_["security"].mode == "model"
    assert any("cloud" in w for w in fitted.warnings_)
    assert "cloud" in fitted.predict(["Our AWS region went down"])[0]


@pytest.mark.parametrize(
    "text", ["", "   ", "ネットワーク障害が発生しました。ディスクが故障。", "x" * 1_000_000]
)
def test_edge_inputs_give_probabilities(fitted: FailureModeClassifier, text: str) -> None:
    probabilities = fitted.predict_proba([text])
    assert probabilities.shape == (1, len(fitted.labels))
    assert np.all(np.isfinite(probabilities))
    assert fitted.suggest(text)


def test_one_megabyte_text_is_read_like_its_opening(fitted: FailureModeClassifier) -> None:
    opening = "The leap second made the clock jump. "
    huge = opening + "padding " * 130_000
    assert fitted.predict([huge]) == fitted.predict([opening + "padding " * 2_000])


def test_bad_inputs_raise_input_error() -> None:
    classifier = FailureModeClassifier()
    with pytest.raises(InputError):
        classifier.predict(["not fitted"])
    with pytest.raises(InputError):
        classifier.fit(["a", "b"], [("time",)])
    with pytest.raises(InputError):
        classifier.fit("one string", [])  # type: ignore[arg-type]


def test_unknown_training_label_is_ignored_with_warning() -> None:
    texts, labels = corpus()
    with pytest.warns(UserWarning, match="not in the taxonomy"):
        classifier = FailureModeClassifier(inner_folds=3).fit(
            texts + ["odd one"], labels + [("made-up",)]
        )
    assert "made-up" not in classifier.labels


def test_save_load_round_trip_without_pickle(fitted: FailureModeClassifier, tmp_path: Path) -> None:
    fitted.save(str(tmp_path))
    config = json.loads((tmp_path / "config.json").read_text())
    assert config["labels"]["security"]["mode"] == "model"
    assert not list(tmp_path.glob("*.pkl"))
    loaded = FailureModeClassifier.load(str(tmp_path))
    texts = ["A failed disk took down the rack", "leaked token", ""]
    np.testing.assert_allclose(loaded.predict_proba(texts), fitted.predict_proba(texts))
    assert loaded.suggest(texts[0])[0].neighbours == fitted.suggest(texts[0])[0].neighbours


def test_label_removed_from_taxonomy_is_dropped_with_warning(
    fitted: FailureModeClassifier, tmp_path: Path
) -> None:
    fitted.save(str(tmp_path))
    full = default_failure_taxonomy()
    smaller = Taxonomy(tuple(m for m in full.modes if m.label != "time"))
    with pytest.warns(UserWarning, match="dropped: time"):
        loaded = FailureModeClassifier.load(str(tmp_path), taxonomy=smaller)
    assert "time" not in loaded.labels
    assert loaded.predict_proba(["clock jump"]).shape == (1, len(full.labels) - 1)


def test_load_refuses_missing_or_foreign_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        FailureModeClassifier.load(str(tmp_path))
    (tmp_path / "config.json").write_text('{"format": "something-else", "version": 1}')
    with pytest.raises(InputError):
        FailureModeClassifier.load(str(tmp_path))


def test_same_seed_same_probabilities() -> None:
    texts, labels = corpus()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        first = FailureModeClassifier(inner_folds=3, seed=7).fit(texts, labels)
        second = FailureModeClassifier(inner_folds=3, seed=7).fit(texts, labels)
    probe = ["a leaked token", "disk fault", "clock jump"]
    np.testing.assert_array_equal(first.predict_proba(probe), second.predict_proba(probe))


def test_no_texts_give_an_empty_probability_table(fitted: FailureModeClassifier) -> None:
    table = fitted.predict_proba([])
    assert table.shape == (0, len(fitted.labels))
    assert fitted.predict([]) == []
