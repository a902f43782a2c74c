"""Okapi BM25 ranking over a sparse term matrix (NumPy / SciPy; no search engine needed)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from lessonloop.text.tokens import tokenize

__all__ = ["BM25Index"]


class BM25Index:
    """BM25 with the usual ``k1`` (term-frequency saturation) and ``b`` (length normalisation)."""

    def __init__(self, *, k1: float = 1.2, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b

    def fit(self, documents: Sequence[str]) -> BM25Index:
        """Index the documents; row order is the document order."""
        self.vectorizer_ = CountVectorizer(
            stop_words="english", tokenizer=tokenize, token_pattern=None
        )
        safe = [d if d.strip() else " " for d in documents]
        try:
            counts = self.vectorizer_.fit_transform(safe).tocsr().astype(float)
        except ValueError:  # empty vocabulary: nothing can ever match
            self.vectorizer_ = None
            self.weights_ = sp.csr_matrix((len(safe), 0))
            return self
        n_docs = counts.shape[0]
        document_frequency = np.bincount(counts.indices, minlength=counts.shape[1])
        idf = np.log1p((n_docs - document_frequency + 0.5) / (document_frequency + 0.5))
        lengths = np.asarray(counts.sum(axis=1)).ravel()
        average = lengths.mean() if n_docs and lengths.mean() > 0 else 1.0
        norm = self.k1 * (1.0 - self.b + self.b * lengths / average)
        weights = counts.copy()
        row_of = np.repeat(np.arange(n_docs), np.diff(counts.indptr))
        tf = counts.data
        weights.data = idf[counts.indices] * tf * (self.k1 + 1.0) / (tf + norm[row_of])
        self.weights_ = weights
        self.terms_ = [str(t) for t in self.vectorizer_.get_feature_names_out()]
        return self

    def query_vector(self, query: str) -> sp.csr_matrix:
        """Binary bag of the query's known terms (repeated query words count once)."""
        if self.vectorizer_ is None:
            return sp.csr_matrix((1, 0))
        vector = self.vectorizer_.transform([query or " "]).tocsr()
        vector.data[:] = 1.0
        return vector

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every indexed document for ``query``."""
        if self.weights_.shape[1] == 0:
            return np.zeros(self.weights_.shape[0])
        return np.asarray((self.weights_ @ self.query_vector(query).T).todense()).ravel()

    def matched_terms(self, query: str, row: int, limit: int = 5) -> tuple[str, ...]:
        """The query terms that contribute most to one document's score."""
        if self.vectorizer_ is None:
            return ()
        contribution = self.weights_[row].multiply(self.query_vector(query)).tocsr()
        order = np.argsort(-contribution.data)[:limit]
        return tuple(self.terms_[contribution.indices[i]] for i in order)
