"""Self-training: label the unlabelled texts the classifier is sure about, then refit once.

Only texts whose every label is confidently in or out (probability at least ``confidence``
or at most ``1 - confidence``) are added, with the labels predicted for them. Nothing of a
holdout is used: the unlabelled texts are the ones handed to ``fit``.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from lessonloop.text.classifier import FailureModeClassifier

__all__ = ["confident_pseudo_labels", "self_train"]


def confident_pseudo_labels(
    classifier: FailureModeClassifier, texts: Sequence[str], confidence: float
) -> tuple[list[int], list[tuple[str, ...]]]:
    """Indexes of the texts labelled with confidence, and their predicted label sets."""
    if not texts:
        return [], []
    probabilities = classifier.predict_proba(texts)
    sure = np.all((probabilities >= confidence) | (probabilities <= 1 - confidence), axis=1)
    labels = classifier.labels
    picked = [int(i) for i in np.flatnonzero(sure)]
    return picked, [
        tuple(x for x, p in zip(labels, probabilities[i], strict=True) if p >= confidence)
        for i in picked
    ]


def self_train(
    classifier: FailureModeClassifier,
    texts: Sequence[str],
    label_sets: Sequence[Sequence[str]],
    unlabeled_texts: Sequence[str],
) -> None:
    """Refit ``classifier`` in place with the confidently pseudo-labelled texts added."""
    unlabeled = list(unlabeled_texts)
    confidence = classifier.self_training_confidence
    picked, pseudo = confident_pseudo_labels(classifier, unlabeled, confidence)
    if not picked:
        return
    names = inspect.signature(type(classifier)).parameters
    params = {name: getattr(classifier, name) for name in names}
    student = type(classifier)(**(params | {"self_training_confidence": 0.0}))
    chosen = set(picked)
    student.fit(
        [*texts, *(unlabeled[i] for i in picked)],
        [*label_sets, *pseudo],
        unlabeled_texts=[t for i, t in enumerate(unlabeled) if i not in chosen],
        ids=[*classifier.train_ids_, *(f"pseudo-{i}" for i in picked)],
    )
    vars(classifier).update({k: v for k, v in vars(student).items() if k.endswith("_")})
    classifier.pseudo_labelled_ = len(picked)
