"""Pure scoring for B2: multi-label F1 and retrieval precision@k / MRR."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "curve_point",
    "label_matrix",
    "multilabel_f1",
    "random_retrieval_expectation",
    "retrieval_scores",
]


def label_matrix(label_sets: Sequence[Sequence[str]], labels: Sequence[str]) -> np.ndarray:
    """0/1 matrix (documents x labels)."""
    return np.array([[x in set(s) for x in labels] for s in label_sets], dtype=int).reshape(
        len(label_sets), len(labels)
    )


def multilabel_f1(
    truth: Sequence[Sequence[str]], predicted: Sequence[Sequence[str]], labels: Sequence[str]
) -> dict[str, Any]:
    """Micro-F1, macro-F1 (mean over labels; a label never true nor predicted scores 0)."""
    y = label_matrix(truth, labels)
    p = label_matrix(predicted, labels)
    tp = (y & p).sum(axis=0).astype(float)
    fp = ((1 - y) & p).sum(axis=0).astype(float)
    fn = (y & (1 - p)).sum(axis=0).astype(float)
    denominator = 2 * tp + fp + fn
    per_label = np.divide(2 * tp, denominator, out=np.zeros_like(tp), where=denominator > 0)
    micro_denominator = 2 * tp.sum() + fp.sum() + fn.sum()
    return {
        "micro_f1": float(2 * tp.sum() / micro_denominator) if micro_denominator else 0.0,
        "macro_f1": float(per_label.mean()) if len(labels) else 0.0,
        "per_category_f1": {x: float(v) for x, v in zip(labels, per_label, strict=True)},
    }


def retrieval_scores(
    rankings: Sequence[Sequence[int]], relevance: Sequence[Sequence[bool]], *, k: int = 5
) -> dict[str, float]:
    """Mean precision@k and MRR; ``rankings[q]`` are candidate indexes best first."""
    precisions, reciprocal_ranks = [], []
    for ranking, relevant in zip(rankings, relevance, strict=True):
        hits = [bool(relevant[i]) for i in ranking]
        precisions.append(sum(hits[:k]) / k)
        first = next((rank for rank, hit in enumerate(hits, start=1) if hit), None)
        reciprocal_ranks.append(1.0 / first if first else 0.0)
    return {
        "precision_at_5" if k == 5 else f"precision_at_{k}": float(np.mean(precisions))
        if precisions
        else 0.0,
        "mrr": float(np.mean(reciprocal_ranks)) if reciprocal_ranks else 0.0,
    }


def random_retrieval_expectation(
    relevance: Sequence[Sequence[bool]], *, k: int = 5
) -> dict[str, float]:
    """Expected precision@k and MRR of a uniformly random ranking (the chance baseline)."""
    precisions, reciprocal_ranks = [], []
    for relevant in relevance:
        total, hits = len(relevant), int(sum(bool(x) for x in relevant))
        precisions.append(hits / total if total else 0.0)
        expected, none_before = 0.0, 1.0
        for rank in range(1, total - hits + 2 if hits else 1):
            first_here = none_before * hits / (total - rank + 1)
            expected += first_here / rank
            none_before *= (total - rank + 1 - hits) / (total - rank + 1)
        reciprocal_ranks.append(expected)
    key = "precision_at_5" if k == 5 else f"precision_at_{k}"
    return {key: float(np.mean(precisions)), "mrr": float(np.mean(reciprocal_ranks))}


def curve_point(
    truth: Sequence[Sequence[str]],
    runs: Sequence[Sequence[Sequence[str]]],
    labels: Sequence[str],
    *,
    fraction: float,
) -> dict[str, Any]:
    """One learning-curve row: F1 figures averaged over repeated label-reveal orders."""
    scored = [multilabel_f1(truth, predicted, labels) for predicted in runs]
    return {
        "fraction": fraction,
        "micro_f1": float(np.mean([r["micro_f1"] for r in scored])),
        "macro_f1": float(np.mean([r["macro_f1"] for r in scored])),
        "macro_f1_per_repeat": [r["macro_f1"] for r in scored],
        "per_category_f1": {
            x: float(np.mean([r["per_category_f1"][x] for r in scored])) for x in labels
        },
    }
