"""Why a failure mode was suggested: contributing terms, keyword hits, labelled neighbours."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from lessonloop.text.classifier import FailureModeClassifier

__all__ = ["FailureModeSuggestion", "explain_labels"]


@dataclass(frozen=True)
class FailureModeSuggestion:
    """A label with its calibrated probability and why: terms, keywords and labelled neighbours."""

    label: str
    probability: float
    threshold: float
    suggested: bool
    source: str
    top_terms: tuple[str, ...]
    keyword_hits: tuple[str, ...]
    neighbours: tuple[tuple[str, float], ...]


def explain_labels(
    classifier: FailureModeClassifier, text: str, *, top_terms: int, neighbours: int
) -> list[FailureModeSuggestion]:
    """Every active label for one text, most probable first, with its evidence."""
    probabilities = classifier.predict_proba([text])[0]
    thresholds = classifier.thresholds()
    cleaned = classifier._clean([text])
    trained = classifier.training_taxonomy_
    prior = classifier._prior(cleaned, trained)
    row = classifier._features(cleaned, prior)
    names = classifier.features_.feature_names() + [f"keywords:{x}" for x in trained.labels]
    hits = classifier._active_taxonomy().keyword_hits(cleaned[0])
    similarities = (classifier.train_matrix_ @ row.T).toarray().ravel()
    suggestions = []
    for column, label in enumerate(classifier.labels):
        model = classifier.label_models_.get(label)
        terms: tuple[str, ...] = ()
        source = "keywords"
        if model is not None and model.estimator is not None:
            source = "model+keywords" if model.blend_weight < 1.0 else "model"
            contributions = row.multiply(model.estimator.coef_[0]).tocsr()
            order = [i for i in np.argsort(-contributions.data) if contributions.data[i] > 0]
            ranked = [names[contributions.indices[i]] for i in order]
            words = [n for n in ranked if not n.startswith("'")]  # character n-grams are quoted
            terms = tuple((words or ranked)[:top_terms])
        near: tuple[tuple[str, float], ...] = ()
        if label in trained.labels and len(similarities):
            with_label = np.flatnonzero(classifier.train_truth_[:, trained.labels.index(label)])
            closest = with_label[np.argsort(-similarities[with_label])][:neighbours]
            near = tuple(
                (classifier.train_ids_[i], round(float(similarities[i]), 4)) for i in closest
            )
        suggestions.append(
            FailureModeSuggestion(
                label=label,
                probability=float(probabilities[column]),
                threshold=float(thresholds[column]),
                suggested=bool(probabilities[column] >= thresholds[column]),
                source=source,
                top_terms=terms,
                keyword_hits=tuple(hits.get(label, [])),
                neighbours=near,
            )
        )
    return sorted(suggestions, key=lambda s: -s.probability)
