"""B2 benchmark: failure-mode classification learning curve and precedent retrieval.

Cross-validation (5 folds, fixed seed) over the labelled postmortems of one directory, or
train on one directory and test on another. Every model choice (regularisation, calibration,
keyword blend, thresholds) is made inside ``FailureModeClassifier.fit`` from training labels
only; test labels are used for scoring and nothing else.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from lessonloop.errors import InputError
from lessonloop.services.benchmark_text_corpus import (
    CorpusNotes,
    corpus_taxonomy,
    read_postmortem_directory,
    split_pairs,
    tidy_corpora,
)
from lessonloop.text.classifier import FailureModeClassifier
from lessonloop.text.frontmatter import PostmortemDocument, with_document_text
from lessonloop.text.precedents import PrecedentDocument, PrecedentRetriever
from lessonloop.text.scoring import (
    curve_point,
    multilabel_f1,
    random_retrieval_expectation,
    retrieval_scores,
)
from lessonloop.text.taxonomy import Taxonomy

__all__ = ["read_postmortem_directory", "run_b2", "CURVE_FRACTIONS"]

CURVE_FRACTIONS = (0.0, 0.10, 0.25, 0.50, 1.0)
ANCHORS = {"RCACopilot": {"macro_f1": 0.53, "accuracy": 0.766, "data": "Microsoft incidents"}}
Progress = Callable[[str], None]


def _curve_predictions(
    train: Sequence[PostmortemDocument],
    test: Sequence[PostmortemDocument],
    unlabeled: Sequence[PostmortemDocument],
    taxonomy: Taxonomy,
    reveal_order: np.ndarray,
    fractions: Sequence[float],
    seed: int,
    classifier_params: dict[str, Any],
) -> dict[float, list[tuple[str, ...]]]:
    """Predictions on ``test`` with the first fraction of ``reveal_order`` labels revealed."""
    out: dict[float, list[tuple[str, ...]]] = {}
    test_texts = [d.text for d in test]
    for fraction in fractions:
        count = int(round(fraction * len(train)))
        shown = [train[i] for i in reveal_order[:count]]
        hidden = [train[i].text for i in reveal_order[count:]]
        classifier = FailureModeClassifier(taxonomy, seed=seed, **classifier_params).fit(
            [d.text for d in shown],
            [d.categories for d in shown],
            unlabeled_texts=hidden + [d.text for d in unlabeled],
            ids=[Path(d.name).name for d in shown],
        )
        out[fraction] = classifier.predict(test_texts)
    return out


def _rank_training(
    train: Sequence[PostmortemDocument],
    test: Sequence[PostmortemDocument],
    *,
    backend: str,
    encoder: Callable[[Sequence[str]], np.ndarray] | None = None,
    label_probabilities: np.ndarray | None = None,
    labels: Sequence[str] = (),
) -> list[list[int]]:
    """For each test document, the training documents' indexes best first."""
    retriever = PrecedentRetriever(
        backend=backend, encoder=encoder, label_weight=1.0 if label_probabilities is not None else 0
    ).fit(
        [
            PrecedentDocument(str(i), d.title, d.lead, labels=d.categories)
            for i, d in enumerate(train)
        ]
    )
    rankings = []
    for row, document in enumerate(test):
        probabilities = (
            dict(zip(labels, label_probabilities[row], strict=True))
            if label_probabilities is not None
            else None
        )
        found = retriever.search(document.text, k=len(train), label_probabilities=probabilities)
        rankings.append([int(p.incident_id) for p in found])
    return rankings


def run_b2(
    corpus: Path | None,
    *,
    train_corpus: Path | None = None,
    test_corpus: Path | None = None,
    seed: int = 0,
    semantic: bool = False,
    progress: Progress | None = None,
    reveal_repeats: int = 3,
    fractions: Sequence[float] = CURVE_FRACTIONS,
    classifier_params: dict[str, Any] | None = None,
    document_text: str = "title+summary",
) -> dict[str, Any]:
    """Run B2 and return the JSON-ready result (curve, retrieval, raw predictions, runtime).

    ``document_text="all-fields"`` (outside the protocol) also feeds keywords, product and
    body to the classifier and the queries. Per-label "keywords only" warnings are expected
    at small label fractions and silenced.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return _run_b2_quietly(
            corpus,
            train_corpus,
            test_corpus,
            seed,
            semantic,
            progress,
            reveal_repeats,
            fractions,
            dict(classifier_params or {}),
            document_text,
        )


def _run_b2_quietly(
    corpus: Path | None,
    train_corpus: Path | None,
    test_corpus: Path | None,
    seed: int,
    semantic: bool,
    progress: Progress | None,
    reveal_repeats: int,
    fractions: Sequence[float],
    classifier_params: dict[str, Any],
    document_text: str,
) -> dict[str, Any]:
    """The B2 run itself (see ``run_b2``)."""
    started = time.perf_counter()
    report = progress or (lambda message: None)
    if (train_corpus is None) != (test_corpus is None):
        raise InputError("give both --train-corpus and --test-corpus, or neither")
    if corpus is None and train_corpus is None:
        raise InputError("give --corpus, or --train-corpus with --test-corpus")
    documents = read_postmortem_directory(corpus) if train_corpus is None and corpus else None
    train_documents = read_postmortem_directory(train_corpus) if train_corpus else None
    test_documents = read_postmortem_directory(test_corpus) if test_corpus else None
    if document_text != "title+summary":
        documents, train_documents, test_documents = (
            [with_document_text(d, document_text) for d in group] if group else group
            for group in (documents, train_documents, test_documents)
        )
    notes = CorpusNotes()
    documents, train_documents, test_documents = tidy_corpora(
        (documents, train_documents, test_documents), notes
    )
    everything = documents or (train_documents or []) + (test_documents or [])
    taxonomy = corpus_taxonomy(everything)
    labels = taxonomy.labels
    splits = split_pairs(documents, train_documents, test_documents, seed, notes)
    truth: list[tuple[str, ...]] = []
    names: list[str] = []
    variants_params: dict[str, dict[str, Any]] = {"default": classifier_params}
    if semantic:
        variants_params["semantic"] = classifier_params | {"semantic_weight": 1.0}
    predictions: dict[tuple[str, float], list[list[tuple[str, ...]]]] = {
        (name, f): [[] for _ in range(reveal_repeats)]
        for name in variants_params
        for f in fractions
    }
    rankings: dict[str, list[list[str]]] = {"bm25": [], "bm25+labels": []}
    retrieval_relevance: dict[str, list[list[bool]]] = {k: [] for k in rankings}
    encoder = None
    if semantic:
        from lessonloop.text.semantic import load_sentence_encoder

        encoder = load_sentence_encoder()
        rankings["semantic"], retrieval_relevance["semantic"] = [], []
    for fold, (train, test, unlabeled) in enumerate(splits):
        report(f"fold {fold + 1}/{len(splits)}: {len(train)} train, {len(test)} test")
        truth += [d.categories for d in test]
        names += [Path(d.name).name for d in test]
        for repeat in range(reveal_repeats):
            order = np.random.default_rng([seed, fold, repeat]).permutation(len(train))
            for name, params in variants_params.items():
                fold_predictions = _curve_predictions(
                    train, test, unlabeled, taxonomy, order, fractions, seed, params
                )
                for fraction, predicted in fold_predictions.items():
                    predictions[name, fraction][repeat] += predicted
        full = FailureModeClassifier(taxonomy, seed=seed, **classifier_params).fit(
            [d.text for d in train],
            [d.categories for d in train],
            unlabeled_texts=[d.text for d in unlabeled],
        )
        probabilities = full.predict_proba([d.text for d in test])
        variants = {
            "bm25": _rank_training(train, test, backend="bm25"),
            "bm25+labels": _rank_training(
                train, test, backend="bm25", label_probabilities=probabilities, labels=labels
            ),
        }
        if encoder is not None:
            variants["semantic"] = _rank_training(train, test, backend="semantic", encoder=encoder)
        for variant, ranked in variants.items():
            for query, ranking in zip(test, ranked, strict=True):
                rankings[variant].append([Path(train[i].name).name for i in ranking[:10]])
                retrieval_relevance[variant].append(
                    [bool(set(query.categories) & set(train[i].categories)) for i in ranking]
                )
    curves = {
        name: [curve_point(truth, predictions[name, f], labels, fraction=f) for f in fractions]
        for name in variants_params
    }
    curve = curves["default"]
    predict_all = multilabel_f1(truth, [labels] * len(truth), labels)
    retrieval = {
        variant: retrieval_scores([list(range(len(r))) for r in relevance], relevance)
        for variant, relevance in retrieval_relevance.items()
    }
    retrieval["random"] = random_retrieval_expectation(retrieval_relevance["bm25"])
    steps = [c["macro_f1"] for c in curve]
    return {
        "protocol": "B2",
        "config": {
            "corpus": str(corpus) if corpus else None,
            "train_corpus": str(train_corpus) if train_corpus else None,
            "test_corpus": str(test_corpus) if test_corpus else None,
            "seed": seed,
            "folds": len(splits),
            "reveal_repeats": reveal_repeats,
            "semantic": semantic,
            "classifier_params": classifier_params,
            "document_text": document_text,
            "labels": list(labels),
        },
        "data": {
            "documents": len(everything),
            "labeled": sum(d.is_labeled for d in everything),
            "label_counts": {x: sum(x in d.categories for d in everything) for x in labels},
            "unknown_categories": notes.unknown_categories,
            "empty_documents": notes.empty_documents,
            "untrained_test_categories": notes.untrained_test_categories,
            "duplicate_documents": notes.duplicate_documents,
        },
        "warnings": notes.warnings(),
        "results": {
            "curve": curve,
            "curve_strictly_increasing": all(b > a for a, b in zip(steps, steps[1:], strict=False)),
            "curve_variants": curves,
            "baseline_predict_every_label": predict_all,
            "retrieval": retrieval["bm25"] | {"variants": retrieval},
            "anchors": ANCHORS,
        },
        "raw": {
            "documents": names,
            "truth": [list(t) for t in truth],
            "predictions": {
                f"{name}@{f}": [[list(p) for p in run] for run in runs]
                for (name, f), runs in predictions.items()
            },
            "rankings_top10": rankings,
        },
        "runtime_seconds": round(time.perf_counter() - started, 2),
    }
