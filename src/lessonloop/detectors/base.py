"""The detector interface, the registry of detectors, and saving/loading (config.json + skops).

Hyper-parameters live only in ``__init__`` (stored under the same names, never changed by
``fit``); learned state lives in attributes ending with ``_`` and is saved with skops.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar, Self, TypeVar

import numpy as np
import numpy.typing as npt

from lessonloop.detectors.feedback import SeriesFeedback
from lessonloop.detectors.thresholding import detections_from_scores
from lessonloop.errors import InputError

__all__ = ["Detector", "register_detector", "detector_names", "make_detector", "load_detector"]

CONFIG_FILE = "config.json"
STATE_FILE = "state.skops"
_REGISTRY: dict[str, type[Detector]] = {}
D = TypeVar("D", bound="type[Detector]")


def as_series(values: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Validate a series: one-dimensional, finite floats."""
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 1:
        raise InputError(f"a series must be one-dimensional, got shape {array.shape}")
    bad = np.flatnonzero(~np.isfinite(array))
    if bad.size:
        raise InputError(
            f"a series must be finite: row {int(bad[0])} (counted from 0) is {array[bad[0]]}"
            f" ({bad.size} such rows)",
            field="value",
        )
    return array


class Detector:
    """Base class: causal `score`, optional `fit` on feedback, `detect` = threshold + debounce."""

    name: ClassVar[str] = "detector"
    finds: ClassVar[frozenset[str]] = frozenset({"spike", "level_shift"})

    def get_params(self) -> dict[str, Any]:
        """Hyper-parameters, read from the `__init__` signature."""
        signature = inspect.signature(type(self).__init__)
        return {p: getattr(self, p) for p in signature.parameters if p != "self"}

    def clone(self) -> Self:
        """A fresh, unfitted copy with the same hyper-parameters."""
        return type(self)(**self.get_params())

    def fit(self, series: Sequence[SeriesFeedback]) -> Self:
        """Learn from feedback on many series; detectors that do not learn return self."""
        return self

    def score(
        self, values: npt.ArrayLike, feedback: SeriesFeedback | None = None
    ) -> npt.NDArray[np.float64]:
        """Anomaly score per row; row i depends only on rows <= i (and on feedback)."""
        raise NotImplementedError

    def decision_threshold(self, feedback: SeriesFeedback | None = None) -> float:
        """Score at or above which a row is a detection."""
        return float(getattr(self, "threshold", 1.0))

    def debounce_rows(self) -> int:
        """Rows to stay quiet after a detection."""
        return int(getattr(self, "debounce", 0))

    def escalation_factor(self) -> float:
        """How many times louder than the last detection a row must be to re-alert early."""
        return float(getattr(self, "escalation", float("inf")))

    def detect(
        self,
        values: npt.ArrayLike,
        *,
        feedback: SeriesFeedback | None = None,
        start_row: int = 0,
    ) -> npt.NDArray[np.int64]:
        """Detection rows (>= start_row): threshold the score, then debounce."""
        scores = self.score(values, feedback)
        return detections_from_scores(
            scores,
            self.decision_threshold(feedback),
            debounce_rows=self.debounce_rows(),
            start_row=start_row,
            escalation=self.escalation_factor(),
        )

    def learned_state(self) -> dict[str, Any]:
        """Learned attributes (names ending in `_`) for saving."""
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    def save(self, directory: Path) -> None:
        """Write config.json (name + hyper-parameters) and state.skops (learned state)."""
        directory.mkdir(parents=True, exist_ok=True)
        config = {"detector": self.name, "params": _jsonable(self.get_params())}
        (directory / CONFIG_FILE).write_text(json.dumps(config, indent=2, sort_keys=True))
        import skops.io  # imported on use: it is slow to import

        skops.io.dump(self.learned_state(), directory / STATE_FILE)


def _jsonable(params: dict[str, Any]) -> dict[str, Any]:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def register_detector(cls: D) -> D:
    """Class decorator: make a detector available by its `name`."""
    _REGISTRY[cls.name] = cls
    return cls


def detector_names() -> list[str]:
    """Names of every registered detector."""
    return sorted(_REGISTRY)


def make_detector(name: str, **params: Any) -> Detector:
    """Instantiate a registered detector by name."""
    if name not in _REGISTRY:
        raise InputError(f"unknown detector {name!r}; known: {', '.join(detector_names())}")
    return _REGISTRY[name](**params)


def load_detector(directory: Path, *, trusted: Sequence[str] = ()) -> Detector:
    """Load a saved detector; state types outside skops' defaults must be listed in `trusted`."""
    try:
        config = json.loads((directory / CONFIG_FILE).read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise InputError(f"cannot read detector config: {error}", file=str(directory)) from error
    params = {
        k: tuple(v) if isinstance(v, list) else v for k, v in config.get("params", {}).items()
    }
    detector = make_detector(config.get("detector", ""), **params)
    state_path = directory / STATE_FILE
    if not state_path.is_file():
        raise InputError("detector state file missing", file=str(state_path))
    import skops.io

    untrusted = skops.io.get_untrusted_types(file=state_path)
    unexpected = sorted(set(untrusted) - set(trusted) - set(_known_state_types()))
    if unexpected:
        raise InputError(f"untrusted types in detector state: {unexpected}", file=str(state_path))
    state = skops.io.load(state_path, trusted=list(untrusted))
    for key, value in state.items():
        setattr(detector, key, value)
    return detector


def _known_state_types() -> list[str]:
    """Types our own learners store (scikit-learn linear models and NumPy scalars)."""
    return [
        "sklearn.linear_model._logistic.LogisticRegression",
        "sklearn.preprocessing._data.StandardScaler",
        "numpy.float64",
        "numpy.int64",
    ]
