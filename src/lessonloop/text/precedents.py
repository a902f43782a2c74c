"""Precedent retrieval: similar past incidents by BM25 (default), TF-IDF or sentence embeddings,
re-ranked by reviewer feedback ("this precedent helped / did not help for a query like this").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from lessonloop.errors import InputError, NotFound
from lessonloop.text.bm25 import BM25Index
from lessonloop.text.features import clean_text

__all__ = ["PrecedentDocument", "Precedent", "PrecedentRetriever"]

BACKENDS = ("bm25", "tfidf", "semantic")


@dataclass(frozen=True)
class PrecedentDocument:
    """A past incident as retrievable text; ``labels`` are its failure modes, if known."""

    incident_id: str
    title: str
    summary: str = ""
    timeline: str = ""
    insights: str = ""
    labels: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        """All searchable fields joined (the title twice: it is the densest summary)."""
        parts = (self.title, self.title, self.summary, self.timeline, self.insights)
        return "\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Precedent:
    """One retrieved incident with how its score was made."""

    incident_id: str
    score: float
    text_score: float
    feedback_adjustment: float
    label_score: float
    matched_terms: tuple[str, ...]


@dataclass(frozen=True)
class _Feedback:
    query: str
    query_vector: sp.csr_matrix
    incident_id: str
    helpful: bool


class PrecedentRetriever:
    """Rank past incidents for a query text; learns from helpful / not-helpful verdicts."""

    def __init__(
        self,
        *,
        backend: str = "bm25",
        k1: float = 1.2,
        b: float = 0.75,
        feedback_weight: float = 0.5,
        feedback_min_similarity: float = 0.1,
        label_weight: float = 0.0,
        max_chars: int = 20000,
        encoder: Callable[[Sequence[str]], np.ndarray] | None = None,
    ) -> None:
        self.backend = backend
        self.k1 = k1
        self.b = b
        self.feedback_weight = feedback_weight
        self.feedback_min_similarity = feedback_min_similarity
        self.label_weight = label_weight
        self.max_chars = max_chars
        self.encoder = encoder

    def fit(self, documents: Sequence[PrecedentDocument]) -> PrecedentRetriever:
        """Index past incidents (replaces any earlier index; feedback is kept)."""
        if self.backend not in BACKENDS:
            raise InputError(f"unknown backend {self.backend!r}", field="backend")
        ids = [d.incident_id for d in documents]
        if len(set(ids)) != len(ids):
            raise InputError("incident ids must be unique", field="incident_id")
        self.documents_ = list(documents)
        self.index_of_ = {incident_id: row for row, incident_id in enumerate(ids)}
        texts = [clean_text(d.text, self.max_chars) for d in documents]
        self.bm25_ = BM25Index(k1=self.k1, b=self.b).fit(texts)
        self.similarity_ = TfidfVectorizer(sublinear_tf=True, stop_words="english")
        try:
            self.document_vectors_ = self.similarity_.fit_transform([t or " " for t in texts])
        except ValueError:
            self.similarity_ = None
            self.document_vectors_ = sp.csr_matrix((len(texts), 0))
        if self.backend == "semantic":
            if self.encoder is None:
                from lessonloop.text.semantic import load_sentence_encoder

                self.encoder = load_sentence_encoder()
            self.embeddings_ = self.encoder(texts)
        if not hasattr(self, "feedback_"):
            self.feedback_: list[_Feedback] = []
        else:  # past queries are re-vectorised against the new vocabulary
            kept = [f for f in self.feedback_ if f.incident_id in self.index_of_]
            self.feedback_ = []
            for item in kept:
                self.add_feedback(item.query, item.incident_id, helpful=item.helpful)
        return self

    def _query_vector(self, query: str) -> sp.csr_matrix:
        if self.similarity_ is None:
            return sp.csr_matrix((1, 0))
        return self.similarity_.transform([query or " "])

    def feedback_records(self) -> list[tuple[str, str, bool]]:
        """Recorded verdicts as (query text, incident id, helpful), oldest first."""
        return [(f.query, f.incident_id, f.helpful) for f in getattr(self, "feedback_", [])]

    def save(self, directory: str | Path) -> None:
        """Write ``config.json`` (parameters) and ``state.json`` (documents, verdicts)."""
        from lessonloop.text.precedent_persistence import save_retriever

        save_retriever(self, directory)

    @classmethod
    def load(
        cls,
        directory: str | Path,
        *,
        encoder: Callable[[Sequence[str]], np.ndarray] | None = None,
    ) -> PrecedentRetriever:
        """Read a saved retriever and rebuild its index from the saved documents."""
        from lessonloop.text.precedent_persistence import load_retriever

        return load_retriever(directory, encoder=encoder)

    def text_scores(self, query: str) -> np.ndarray:
        """Backend similarity of every indexed incident, scaled so the best is 1."""
        cleaned = clean_text(query, self.max_chars)
        if self.backend == "bm25":
            raw = self.bm25_.scores(cleaned)
        elif self.backend == "tfidf":
            raw = np.asarray((self.document_vectors_ @ self._query_vector(cleaned).T).todense())
        else:
            encoder = self.encoder
            if encoder is None:
                raise InputError("semantic backend has no encoder", field="backend")
            raw = self.embeddings_ @ encoder([cleaned])[0]
        raw = np.asarray(raw, dtype=float).ravel()
        top = raw.max() if raw.size else 0.0
        return raw / top if top > 0 else raw

    def add_feedback(self, query: str, incident_id: str, *, helpful: bool) -> None:
        """Record a reviewer verdict on a precedent shown for ``query``."""
        if incident_id not in self.index_of_:
            raise NotFound(f"unknown incident {incident_id!r}")
        vector = normalize(self._query_vector(clean_text(query, self.max_chars)))
        self.feedback_.append(_Feedback(query, vector, incident_id, helpful))

    def feedback_adjustments(self, query: str) -> np.ndarray:
        """Per incident: weight x sum of (+1 helpful / -1 not) x similarity of past queries."""
        adjustment = np.zeros(len(self.documents_))
        if not self.feedback_:
            return adjustment
        vector = normalize(self._query_vector(clean_text(query, self.max_chars)))
        for item in self.feedback_:
            row = self.index_of_.get(item.incident_id)
            if row is None or item.query_vector.shape[1] != vector.shape[1]:
                continue
            similarity = float((item.query_vector @ vector.T).toarray()[0, 0])
            if similarity >= self.feedback_min_similarity:
                adjustment[row] += (1.0 if item.helpful else -1.0) * similarity
        return self.feedback_weight * adjustment

    def label_scores(self, label_probabilities: Mapping[str, float]) -> np.ndarray:
        """Cosine between a query's failure-mode probabilities and each incident's labels."""
        names = sorted(label_probabilities)
        query = np.array([label_probabilities[n] for n in names], dtype=float)
        labels = np.array([[n in d.labels for n in names] for d in self.documents_], dtype=float)
        denominator = np.linalg.norm(labels, axis=1) * (np.linalg.norm(query) or 1.0)
        scores: np.ndarray = np.divide(
            labels @ query, denominator, out=np.zeros(len(labels)), where=denominator > 0
        )
        return scores

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        exclude: Sequence[str] = (),
        label_probabilities: Mapping[str, float] | None = None,
    ) -> list[Precedent]:
        """The ``k`` best past incidents for ``query``, best first."""
        if not hasattr(self, "documents_"):
            raise InputError("the retriever has no index; call fit() first")
        text = self.text_scores(query)
        feedback = self.feedback_adjustments(query)
        labels = (
            self.label_scores(label_probabilities)
            if label_probabilities is not None and self.label_weight > 0
            else np.zeros(len(text))
        )
        total = text + feedback + self.label_weight * labels
        for incident_id in exclude:
            if incident_id in self.index_of_:
                total[self.index_of_[incident_id]] = -np.inf
        order = np.argsort(-total, kind="stable")[: max(k, 0)]
        cleaned = clean_text(query, self.max_chars)
        return [
            Precedent(
                incident_id=self.documents_[row].incident_id,
                score=float(total[row]),
                text_score=float(text[row]),
                feedback_adjustment=float(feedback[row]),
                label_score=float(labels[row]),
                matched_terms=self.bm25_.matched_terms(cleaned, int(row)),
            )
            for row in order
            if np.isfinite(total[row])
        ]
