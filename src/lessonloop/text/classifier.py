"""Multi-label failure-mode classifier that starts from taxonomy keywords and learns from labels.

With no labels it is a keyword matcher (useful on day one). As reviewers label incidents, each
label gets a TF-IDF (word + character, optionally sentence-embedding) logistic regression whose
regularisation, Platt calibration, blend with the keyword prior, decision threshold and
threshold rule are chosen by cross-validation inside the training data. Measured options, off
by default (docs/experiments/b2-log.md): pooled shrinkage toward keywords, label co-occurrence
stacking, self-training, feature-view selection, neighbour votes, repeated inner CV.
A label with fewer than ``min_positive`` examples keeps using its keywords (with a warning).
Labels seen in training but not in the taxonomy are ignored (warning); a saved model loaded
with a taxonomy that no longer has one of its labels drops that label (warning); a taxonomy
label the model never learned uses keywords.
Texts are cut to ``max_chars`` characters, so a 1 MB paste costs what its opening costs.

Example::

    classifier = FailureModeClassifier(default_failure_taxonomy()).fit(texts, label_sets)
    classifier.suggest("A leap second made clocks jump")[0].label   # 'time'
    classifier.save("model-dir")                 # config.json + state.skops
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp

from lessonloop.errors import InputError
from lessonloop.text.cooccurrence import LabelStack, apply_label_stacks, stack_fitted_labels
from lessonloop.text.design_selection import (
    FeatureView,
    choose_feature_view,
    rethreshold_by_inner_cv,
)
from lessonloop.text.evidence import FailureModeSuggestion, explain_labels
from lessonloop.text.features import TextFeatures, clean_text, in_view, keyword_prior
from lessonloop.text.label_fitting import fit_label_models
from lessonloop.text.label_model import (
    THRESHOLD_RULES,
    has_enough_examples,
)
from lessonloop.text.neighbour_vote import mix_votes, neighbour_votes
from lessonloop.text.taxonomy import Taxonomy, default_failure_taxonomy

__all__ = ["FailureModeClassifier", "FailureModeSuggestion"]


class FailureModeClassifier:
    """Keyword prior + per-label calibrated logistic regression over TF-IDF features."""

    def __init__(
        self,
        taxonomy: Taxonomy | None = None,
        *,
        c_grid: tuple[float, ...] = (0.3, 1.0, 3.0, 10.0, 30.0),
        blend_grid: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0),
        inner_folds: int = 5,
        min_positive: int = 3,
        prior_hit_rate: float = math.log(2.0),
        keyword_feature_weight: float = 0.0,
        word_ngram_max: int = 2,
        char_ngram_range: tuple[int, int] = (2, 5),
        max_features: int = 40000,
        max_chars: int = 20000,
        semantic_weight: float = 0.0,
        pseudo_count_grid: tuple[float, ...] = (),
        label_stacking: bool = False,
        self_training_confidence: float = 0.0,
        threshold_rule: str = "inner_cv",
        feature_views: tuple[tuple[float, float], ...] = ((1.0, 1.0),),
        neighbour_k: int = 0,
        inner_repeats: int = 1,
        seed: int = 0,
    ) -> None:
        self.taxonomy = taxonomy
        self.c_grid = c_grid
        self.blend_grid = blend_grid
        self.inner_folds = inner_folds
        self.min_positive = min_positive
        self.prior_hit_rate = prior_hit_rate
        self.keyword_feature_weight = keyword_feature_weight
        self.word_ngram_max = word_ngram_max
        self.char_ngram_range = char_ngram_range
        self.max_features = max_features
        self.max_chars = max_chars
        self.semantic_weight = semantic_weight
        self.pseudo_count_grid = pseudo_count_grid
        self.label_stacking = label_stacking
        self.self_training_confidence = self_training_confidence
        self.threshold_rule = threshold_rule
        self.feature_views = feature_views
        self.neighbour_k = neighbour_k
        self.inner_repeats = inner_repeats
        self.seed = seed

    @property
    def labels(self) -> tuple[str, ...]:
        """Labels this classifier answers for (the active taxonomy's)."""
        return self._active_taxonomy().labels

    def _active_taxonomy(self) -> Taxonomy:
        return self.taxonomy if self.taxonomy is not None else default_failure_taxonomy()

    def _clean(self, texts: Sequence[str]) -> list[str]:
        if isinstance(texts, str):
            raise InputError("expected a sequence of texts, got one string", field="texts")
        return [clean_text(str(t), self.max_chars) for t in texts]

    def _prior(self, texts: Sequence[str], taxonomy: Taxonomy) -> np.ndarray:
        return keyword_prior(taxonomy, texts, self.prior_hit_rate)

    def _features(self, texts: list[str], prior: np.ndarray) -> sp.csr_matrix:
        keyword_block = sp.csr_matrix(prior * self.keyword_feature_weight)
        matrix = sp.hstack([self.features_.transform(texts), keyword_block], format="csr")
        return in_view(matrix, self.features_, getattr(self, "feature_view_", (1.0, 1.0)))

    def fit(
        self,
        texts: Sequence[str],
        label_sets: Sequence[Sequence[str]],
        *,
        unlabeled_texts: Sequence[str] = (),
        ids: Sequence[str] | None = None,
    ) -> FailureModeClassifier:
        """Learn from labelled texts (may be none); unlabelled texts only shape the vocabulary."""
        if len(texts) != len(label_sets):
            raise InputError("texts and label_sets differ in length", field="label_sets")
        if self.threshold_rule not in (*THRESHOLD_RULES, "inner_cv"):
            raise InputError(
                f"unknown threshold rule {self.threshold_rule!r}", field="threshold_rule"
            )
        taxonomy = self._active_taxonomy()
        self.training_taxonomy_ = taxonomy
        self.warnings_: list[str] = []
        cleaned = self._clean(texts)
        unknown = sorted({x for labels in label_sets for x in labels} - set(taxonomy.labels))
        if unknown:
            self._warn(f"labels not in the taxonomy were ignored: {', '.join(unknown)}")
        truth = np.array(
            [[label in set(labels) for label in taxonomy.labels] for labels in label_sets],
            dtype=int,
        ).reshape(len(cleaned), len(taxonomy.labels))
        self.features_ = TextFeatures(
            word_ngram_max=self.word_ngram_max,
            char_ngram_range=self.char_ngram_range,
            max_features=self.max_features,
            semantic_weight=self.semantic_weight,
        ).fit(cleaned + self._clean(unlabeled_texts))
        prior = self._prior(cleaned, taxonomy)
        self.feature_view_: FeatureView = (1.0, 1.0)
        unscaled = self._features(cleaned, prior)
        views = tuple((float(w), float(c)) for w, c in self.feature_views) or ((1.0, 1.0),)
        self.feature_view_, chosen = choose_feature_view(
            {view: in_view(unscaled, self.features_, view) for view in views},
            truth,
            c_grid=self.c_grid,
            inner_folds=self.inner_folds,
            min_positive=self.min_positive,
            seed=self.seed,
            repeats=self.inner_repeats,
        )
        matrix = in_view(unscaled, self.features_, self.feature_view_)
        learnable = np.array([has_enough_examples(t, self.min_positive) for t in truth.T], bool)
        votes = neighbour_votes(matrix, matrix, truth, k=self.neighbour_k, leave_one_out=True)
        model_prior = mix_votes(prior, votes, learnable) if self.neighbour_k > 0 else prior
        self.label_models_ = fit_label_models(
            self, taxonomy.labels, matrix, truth, model_prior, chosen
        )
        self.threshold_rule_ = self.threshold_rule
        if self.threshold_rule == "inner_cv":
            self.threshold_rule_ = rethreshold_by_inner_cv(
                list(self.label_models_.values()), truth, folds=self.inner_folds, seed=self.seed
            )
        for label, model in self.label_models_.items():
            if model.mode == "keywords" and len(cleaned):
                self._warn(f"label {label!r} has {model.n_positive} examples: keywords only")
        self.label_stacks_: dict[str, LabelStack] = {}
        if self.label_stacking and len(cleaned):
            self.label_stacks_ = stack_fitted_labels(
                self.label_models_, prior, truth, self.min_positive, self.inner_folds, self.seed
            )
        self.train_matrix_ = matrix
        self.train_truth_ = truth
        self.train_ids_ = (
            [str(i) for i in ids]
            if ids is not None
            else [f"train-{i}" for i in range(len(cleaned))]
        )
        self.pseudo_labelled_ = 0
        if self.self_training_confidence > 0 and len(cleaned) and len(unlabeled_texts):
            from lessonloop.text.self_training import self_train

            self_train(self, texts, label_sets, unlabeled_texts)
        return self

    def _warn(self, message: str) -> None:
        self.warnings_.append(message)
        warnings.warn(message, UserWarning, stacklevel=3)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated probabilities, one column per label in ``self.labels`` order."""
        self._check_fitted()
        if len(texts) == 0:
            return np.zeros((0, len(self.labels)))
        cleaned = self._clean(texts)
        trained = self.training_taxonomy_
        prior = self._prior(cleaned, trained)
        matrix = self._features(cleaned, prior)
        if self.neighbour_k > 0:
            learned = np.array([self.label_models_[x].mode == "model" for x in trained.labels])
            votes = neighbour_votes(
                matrix, self.train_matrix_, self.train_truth_, k=self.neighbour_k
            )
            prior = mix_votes(prior, votes, learned)
        active = self._active_taxonomy()
        new_labels = [label for label in active.labels if label not in self.label_models_]
        new_prior = (
            self._prior(cleaned, Taxonomy(tuple(active.mode(x) for x in new_labels)))
            if new_labels
            else np.zeros((len(cleaned), 0))
        )
        trained_probabilities = np.column_stack(
            [
                self.label_models_[label].probability(matrix, prior[:, column])
                for column, label in enumerate(trained.labels)
            ]
            or [np.zeros(len(cleaned))]
        )
        stacked = apply_label_stacks(
            trained.labels, trained_probabilities, getattr(self, "label_stacks_", {})
        )
        columns = []
        for label in active.labels:
            if label in self.label_models_:
                columns.append(stacked[:, trained.labels.index(label)])
            else:
                columns.append(new_prior[:, new_labels.index(label)])
        return np.column_stack(columns) if columns else np.zeros((len(cleaned), 0))

    def thresholds(self) -> np.ndarray:
        """Decision threshold per label in ``self.labels`` order."""
        self._check_fitted()
        stacks = getattr(self, "label_stacks_", {})
        return np.array(
            [
                stacks[x].threshold
                if x in stacks
                else self.label_models_[x].threshold
                if x in self.label_models_
                else 0.5
                for x in self.labels
            ]
        )

    def predict(self, texts: Sequence[str]) -> list[tuple[str, ...]]:
        """Suggested labels per text (probability at or above the label's threshold)."""
        chosen = self.predict_proba(texts) >= self.thresholds()
        return [
            tuple(x for x, keep in zip(self.labels, row, strict=True) if keep) for row in chosen
        ]

    def suggest(
        self, text: str, *, top_terms: int = 5, neighbours: int = 3
    ) -> list[FailureModeSuggestion]:
        """Every label ranked by probability, each with the evidence behind it."""
        return explain_labels(self, text, top_terms=top_terms, neighbours=neighbours)

    def _check_fitted(self) -> None:
        if not hasattr(self, "label_models_"):
            raise InputError("the classifier is not fitted yet; call fit() first")

    def save(self, directory: str) -> None:
        """Write ``config.json`` (readable) and ``state.skops`` (no pickle) into ``directory``."""
        from lessonloop.text.persistence import save_classifier

        save_classifier(self, directory)

    @classmethod
    def load(cls, directory: str, *, taxonomy: Taxonomy | None = None) -> FailureModeClassifier:
        """Read a saved classifier; labels missing from ``taxonomy`` are dropped with a warning."""
        from lessonloop.text.persistence import load_classifier

        return load_classifier(directory, taxonomy=taxonomy)
