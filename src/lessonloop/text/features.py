"""Text normalisation and the TF-IDF word + character features shared by the text models."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfVectorizer

from lessonloop.text.taxonomy import Taxonomy

__all__ = ["TextFeatures", "clean_text", "in_view", "keyword_prior"]

_LINK = re.compile(r"\]\([^)]*\)|https?://\S+")


def clean_text(text: str, max_chars: int) -> str:
    """Drop link targets, collapse whitespace, cut to ``max_chars`` (bounds cost on huge input)."""
    cut = (text or "")[: max_chars * 2]
    return " ".join(_LINK.sub(" ", cut).split())[:max_chars]


def keyword_prior(taxonomy: Taxonomy, texts: Sequence[str], hit_rate: float) -> np.ndarray:
    """Zero-label probabilities ``1 - exp(-hit_rate * hits)`` per (text, taxonomy label)."""
    out = np.zeros((len(texts), len(taxonomy.labels)))
    for row, text in enumerate(texts):
        hits = taxonomy.keyword_hits(text)
        for col, label in enumerate(taxonomy.labels):
            out[row, col] = 1.0 - math.exp(-hit_rate * len(hits[label]))
    return out


class TextFeatures:
    """Word (1..n-gram) and character TF-IDF blocks, fitted on labelled and unlabelled text."""

    def __init__(
        self,
        *,
        word_ngram_max: int = 2,
        char_ngram_range: tuple[int, int] = (2, 5),
        max_features: int = 40000,
        char_weight: float = 1.0,
        semantic_weight: float = 0.0,
    ) -> None:
        self.word_ngram_max = word_ngram_max
        self.char_ngram_range = char_ngram_range
        self.max_features = max_features
        self.char_weight = char_weight
        self.semantic_weight = semantic_weight

    def __getstate__(self) -> dict[str, object]:
        """State without the sentence encoder (a live model, reloaded from its package)."""
        return {k: v for k, v in self.__dict__.items() if k != "_encoder"}

    def _semantic_block(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Sentence embeddings (optional extra, loaded on first use) times their weight."""
        if self.semantic_weight <= 0:
            return sp.csr_matrix((len(texts), 0))
        if getattr(self, "_encoder", None) is None:
            from lessonloop.text.semantic import load_sentence_encoder

            self._encoder = load_sentence_encoder()
        return sp.csr_matrix(self._encoder(texts) * self.semantic_weight)

    def fit(self, texts: Sequence[str]) -> TextFeatures:
        """Learn vocabularies and IDF weights (no labels used, so unlabelled text may help)."""
        corpus = [t if t.strip() else " " for t in texts] or [" "]
        self.word_: TfidfVectorizer | None = TfidfVectorizer(
            ngram_range=(1, self.word_ngram_max),
            sublinear_tf=True,
            max_features=self.max_features,
            stop_words="english",
            token_pattern=r"(?u)\b[^\W\d_][\w\-]+\b",
        )
        self.char_: TfidfVectorizer | None = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=self.char_ngram_range,
            sublinear_tf=True,
            max_features=self.max_features,
        )
        try:
            self.word_.fit(corpus)
        except ValueError:  # no word survives (all empty, digits or stop words)
            self.word_ = None
        try:
            self.char_.fit(corpus)
        except ValueError:
            self.char_ = None
        return self

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """Stacked word and weighted character blocks, each row L2-normalised per block."""
        safe = [t if t.strip() else " " for t in texts]
        if not safe:
            return sp.csr_matrix((0, len(self.feature_names())))
        word = (
            self.word_.transform(safe) if self.word_ is not None else sp.csr_matrix((len(safe), 0))
        )
        char = (
            self.char_.transform(safe) * self.char_weight
            if self.char_ is not None
            else sp.csr_matrix((len(safe), 0))
        )
        return sp.hstack([word, char, self._semantic_block(safe)], format="csr")

    def block_scale(self, word_weight: float, char_weight: float) -> np.ndarray:
        """Per-column multipliers that weight the word and character blocks (a feature view)."""
        words = len(self.word_.vocabulary_) if self.word_ is not None else 0
        chars = len(self.char_.vocabulary_) if self.char_ is not None else 0
        dimensions = self._semantic_block([" "]).shape[1] if self.semantic_weight > 0 else 0
        return np.concatenate(
            [np.full(words, word_weight), np.full(chars, char_weight), np.ones(dimensions)]
        )

    def feature_names(self) -> list[str]:
        """Names aligned with ``transform`` columns (character n-grams quoted)."""
        words = (
            [str(n) for n in self.word_.get_feature_names_out()] if self.word_ is not None else []
        )
        chars = (
            [f"'{n}'" for n in self.char_.get_feature_names_out()] if self.char_ is not None else []
        )
        dimensions = self._semantic_block([" "]).shape[1] if self.semantic_weight > 0 else 0
        return words + chars + [f"embedding:{i}" for i in range(dimensions)]


def in_view(
    matrix: sp.csr_matrix, features: TextFeatures, view: tuple[float, float]
) -> sp.csr_matrix:
    """``matrix`` with its word and character blocks weighted by ``view`` (extra columns kept)."""
    if tuple(view) == (1.0, 1.0):
        return matrix
    blocks = features.block_scale(*view)
    scale = np.concatenate([blocks, np.ones(matrix.shape[1] - len(blocks))])
    scaled = sp.csr_matrix(matrix @ sp.diags(scale))
    scaled.eliminate_zeros()
    return scaled
