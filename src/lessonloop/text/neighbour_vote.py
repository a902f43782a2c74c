"""Label votes of a text's nearest labelled neighbours (cosine over the TF-IDF features).

Used as a second prior beside the taxonomy keywords: what the most similar reviewed incidents
were labelled. Training rows vote without themselves (leave-one-out), so the inner-CV blend
and threshold see the same kind of vote a new incident gets.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

__all__ = ["mix_votes", "neighbour_votes"]


def neighbour_votes(
    queries: sp.csr_matrix,
    train: sp.csr_matrix,
    truth: np.ndarray,
    *,
    k: int,
    leave_one_out: bool = False,
) -> np.ndarray:
    """Similarity-weighted share of the ``k`` nearest training rows that carry each label.

    Rows with no similar neighbour get the labels' base rates. ``leave_one_out`` (queries are
    the training rows themselves) drops each row's own vote.
    """
    n_labels = truth.shape[1]
    if train.shape[0] == 0 or k <= 0:
        return np.zeros((queries.shape[0], n_labels))
    base_rate = truth.mean(axis=0)
    similarity = np.asarray((queries @ train.T).todense(), dtype=float)
    if leave_one_out:
        np.fill_diagonal(similarity, -np.inf)
    keep = min(k, train.shape[0] - (1 if leave_one_out else 0))
    if keep <= 0:
        return np.tile(base_rate, (queries.shape[0], 1))
    nearest = np.argsort(-similarity, axis=1)[:, :keep]
    weights = np.clip(np.take_along_axis(similarity, nearest, axis=1), 0.0, None)
    totals = weights.sum(axis=1, keepdims=True)
    votes = np.einsum("qk,qkl->ql", weights, truth[nearest].astype(float))
    with np.errstate(invalid="ignore", divide="ignore"):
        shares = votes / totals
    return np.asarray(np.where(totals > 0, shares, base_rate), dtype=float)


def mix_votes(prior: np.ndarray, votes: np.ndarray, learned: np.ndarray) -> np.ndarray:
    """Keyword prior averaged with the neighbours' votes, on learned labels only.

    Labels still on keywords (too few examples) keep the pure keyword prior: a vote over one
    or two labelled neighbours would be noise.
    """
    if prior.shape[1] == 0:
        return prior
    return np.asarray(np.where(learned[None, :], (prior + votes) / 2, prior), dtype=float)
