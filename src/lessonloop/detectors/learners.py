"""The feedback learner: a surprise ensemble whose settings are learned from human feedback.

`FeedbackCalibratedEnsemble` learns, for one operator profile:

- which ensemble members to trust and the threshold, floor, memory and debounce, by maximising
  the operator utility over the labelled feedback period of *all* series together (one global
  choice, kept only when it beats the defaults by `margin`: regularisation against the
  per-file overfitting that 0-4 labels per series invite);
- per group of similar series (`SeriesFeedback.group`), a group choice, kept only when it beats
  the global choice on that group by `group_margin` and the group has `min_group_windows`
  labelled windows;
- a per-series suppression from false-positive verdicts (its strength chosen on a time split
  of the feedback period: early verdicts must predict late utility);
- threshold hints as priors: rows beyond a hint get their score multiplied by `hint_boost`.

With `tie_tolerance` > 0, the global and group choices take the first candidate within that
many standard errors of the best (see `selection.first_near_best`) instead of the argmax.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from lessonloop.detectors.base import Detector, as_series, register_detector
from lessonloop.detectors.candidate_grid import SurpriseRatios, candidate_utility_table
from lessonloop.detectors.ensemble import member_features, member_surprise
from lessonloop.detectors.feedback import OperatorProfile, SeriesFeedback
from lessonloop.detectors.selection import first_near_best
from lessonloop.detectors.thresholding import (
    WindowUtility,
    detections_from_scores,
)
from lessonloop.errors import InputError

__all__ = ["FeedbackCalibratedEnsemble", "feedback_utility", "hint_mask", "labelled_utility"]

Array = npt.NDArray[np.float64]
Config = dict[str, Any]


def hint_mask(values: Array, feedback: SeriesFeedback | None) -> npt.NDArray[np.bool_]:
    """Rows whose value is beyond any of the series' threshold hints."""
    mask = np.zeros(values.size, dtype=bool)
    for hint in feedback.hints if feedback else ():
        mask |= values > hint.value if hint.direction == "above" else values < hint.value
    return mask


def labelled_utility(
    scores: Array,
    item: SeriesFeedback,
    threshold: float,
    debounce: int,
    profile: OperatorProfile,
    *,
    start: int | None = None,
    escalation: float = float("inf"),
) -> float:
    """Operator utility of one series' detections over its labelled feedback rows."""
    begin = item.warmup if start is None else max(start, item.warmup)
    rows = detections_from_scores(
        scores,
        threshold,
        debounce_rows=debounce,
        start_row=begin,
        end_row=item.feedback_end,
        escalation=escalation,
    )
    return feedback_utility(item, profile, start=begin)(rows)


def feedback_utility(
    item: SeriesFeedback, profile: OperatorProfile, *, start: int | None = None
) -> WindowUtility:
    """The utility of detections over a series' labelled feedback rows (from `start`)."""
    begin = item.warmup if start is None else max(start, item.warmup)
    windows = [w for w in item.windows if w.end_index < item.feedback_end]
    return WindowUtility(windows, profile, start_row=begin, end_row=item.feedback_end)


def combined_surprise(
    features: dict[str, Array], members: Sequence[str], memory: int, floor: float
) -> Array:
    """Max over members of their surprise (see `member_surprise`)."""
    combined = np.zeros(next(iter(features.values())).size)
    for member in members:
        np.maximum(combined, member_surprise(member, features[member], memory, floor), out=combined)
    return combined


@register_detector
class FeedbackCalibratedEnsemble(Detector):
    """Surprise ensemble whose members, thresholds and suppression are learned from feedback."""

    name = "feedback_calibrated_ensemble"
    # what the learner may choose from (simplest first) and how near-ties are broken
    # (`selection.first_near_best`); subclasses change these, not the constructor
    DEFAULT_MEMBER_SETS: ClassVar[tuple[tuple[str, ...], ...]] = (
        ("spike", "shift"),
        ("spike",),
        ("shift",),
        ("spike", "shift", "novelty"),
    )
    DEFAULT_TIE_TOLERANCE: ClassVar[float] = 0.0

    def __init__(
        self,
        tp_weight: float = 1.0,
        fn_weight: float = 1.0,
        fp_weight: float = 0.11,
        member_sets: tuple[tuple[str, ...], ...] | None = None,
        memories: tuple[int, ...] = (1000, 2000),
        floors: tuple[float, ...] = (2.0, 3.0),
        thresholds: tuple[float, ...] = (1.0, 1.1),
        debounces: tuple[int, ...] = (100, 200, 400),
        suppression_strengths: tuple[float, ...] = (0.0, 0.1),
        margin: float = 1.0,
        group_margin: float = 1.0,
        min_group_windows: int = 4,
        hint_boost: float = 1.5,
        escalation: float = 3.0,
        tie_tolerance: float | None = None,
    ) -> None:
        self.tp_weight = tp_weight
        self.fn_weight = fn_weight
        self.fp_weight = fp_weight
        self.member_sets = tuple(
            tuple(m) for m in (self.DEFAULT_MEMBER_SETS if member_sets is None else member_sets)
        )
        self.memories = tuple(memories)
        self.floors = tuple(floors)
        self.thresholds = tuple(thresholds)
        self.debounces = tuple(debounces)
        self.suppression_strengths = tuple(suppression_strengths)
        self.margin = margin
        self.group_margin = group_margin
        self.min_group_windows = min_group_windows
        self.hint_boost = hint_boost
        self.escalation = escalation
        self.tie_tolerance = self.DEFAULT_TIE_TOLERANCE if tie_tolerance is None else tie_tolerance
        self.config_: Config = self._default_config()
        self.group_configs_: dict[str, Config] = {}
        self.multipliers_: dict[str, float] = {}
        self.strength_: float = 0.0

    @staticmethod
    def _default_config() -> Config:
        return {
            "members": ["spike", "shift"],
            "memory": 1000,
            "floor": 3.0,
            "threshold": 1.0,
            "debounce": 200,
        }

    def _profile(self) -> OperatorProfile:
        return OperatorProfile(self.tp_weight, self.fn_weight, self.fp_weight)

    def _candidates(self) -> list[Config]:
        grid = itertools.product(
            self.member_sets, self.memories, self.floors, self.thresholds, self.debounces
        )
        configs = [
            {"members": list(m), "memory": mem, "floor": fl, "threshold": t, "debounce": d}
            for m, mem, fl, t, d in grid
        ]
        return [self._default_config()] + configs

    def _utility_table(
        self,
        configs: list[Config],
        features: list[dict[str, Array]],
        series: Sequence[SeriesFeedback],
        ratios: SurpriseRatios | None = None,
        utilities: Sequence[WindowUtility] | None = None,
    ) -> npt.NDArray[np.float64]:
        """Utility of every candidate configuration on every series (configs x series).

        `ratios` (of these `features`) and `utilities` (`feedback_utility` of each series) let
        the caller share them with `_fit_suppression`.
        """
        if utilities is None:
            utilities = [feedback_utility(item, self._profile()) for item in series]
        shared = ratios if ratios is not None else SurpriseRatios(features)
        return candidate_utility_table(configs, shared, series, utilities, self.escalation)

    def _member_features(self, values: Array, members: Sequence[str]) -> dict[str, Array]:
        """Raw member scores of one series (subclasses add members of their own)."""
        return member_features(values, tuple(members))

    def fit(self, series: Sequence[SeriesFeedback]) -> Self:
        """Choose a global configuration, group refinements and per-series suppression."""
        if not series:
            raise InputError("no series to learn from", field="series")
        everyone = tuple(sorted({m for ms in self.member_sets for m in ms} | {"spike", "shift"}))
        configs = self._candidates()
        ratios = SurpriseRatios(
            [
                self._member_features(as_series(item.values)[: item.feedback_end], everyone)
                for item in series
            ],
            memories=[c["memory"] for c in configs],
        )
        features = ratios.features
        utilities = [feedback_utility(item, self._profile()) for item in series]
        table = self._utility_table(configs, features, series, ratios, utilities)
        totals = table.sum(axis=1)
        best = first_near_best(table, self.tie_tolerance)
        chosen = best if totals[best] - totals[0] >= self.margin else 0
        self.config_ = {
            **configs[chosen],
            "utility": float(totals[chosen]),
            "default_utility": float(totals[0]),
        }
        self.group_configs_ = {}
        for group in sorted({s.group for s in series if s.group}):
            members = [k for k, s in enumerate(series) if s.group == group]
            labelled = sum(len(series[k].windows) for k in members)
            if labelled < self.min_group_windows:
                continue
            group_totals = table[:, members].sum(axis=1)
            group_best = first_near_best(table[:, members], self.tie_tolerance)
            if group_totals[group_best] - group_totals[chosen] >= self.group_margin:
                self.group_configs_[group] = {
                    **configs[group_best],
                    "utility": float(group_totals[group_best]),
                }
        self._fit_suppression(series, features, ratios, utilities)
        return self

    def config_for(self, feedback: SeriesFeedback | None) -> Config:
        """The configuration used for a series: its group's when learned, else the global one."""
        if feedback is not None and feedback.group in self.group_configs_:
            return self.group_configs_[feedback.group]
        return self.config_

    def _fit_suppression(
        self,
        series: Sequence[SeriesFeedback],
        features: list[dict[str, Array]],
        ratios: SurpriseRatios | None = None,
        utilities: Sequence[WindowUtility] | None = None,
    ) -> None:
        """Pick the strength by predicting late feedback utility from early verdicts."""
        setups = [self.config_for(item) for item in series]
        if ratios is None:
            combined = [
                combined_surprise(f, c["members"], c["memory"], c["floor"])
                for f, c in zip(features, setups, strict=True)
            ]
        else:
            combined = [
                ratios.series_combined(k, c["members"], c["memory"], c["floor"])
                for k, c in enumerate(setups)
            ]
        middles = [(item.warmup + item.feedback_end) // 2 for item in series]
        if utilities is None:
            utilities = [feedback_utility(item, self._profile()) for item in series]
        lates = [u.from_row(middle) for u, middle in zip(utilities, middles, strict=True)]
        best_strength, best_utility = 0.0, -np.inf
        for strength in self.suppression_strengths:
            utility = 0.0
            for scores, item, config, middle, late in zip(
                combined, series, setups, middles, lates, strict=True
            ):
                early = sum(1 for v in item.verdicts if v.index < middle)
                threshold = config["threshold"] * (1.0 + strength * early / (early + 5.0))
                rows = detections_from_scores(
                    scores,
                    threshold,
                    debounce_rows=config["debounce"],
                    start_row=late.start_row,
                    end_row=item.feedback_end,
                    escalation=self.escalation,
                )
                utility += late(rows)
            if utility > best_utility + 1e-9:
                best_strength, best_utility = strength, utility
        self.strength_ = float(best_strength)
        self.multipliers_ = {
            item.series_id: 1.0 + best_strength * len(item.verdicts) / (len(item.verdicts) + 5.0)
            for item in series
        }

    def score(self, values: npt.ArrayLike, feedback: SeriesFeedback | None = None) -> Array:
        """Learned-ensemble surprise per row, boosted where a threshold hint is crossed."""
        series = as_series(values)
        config = self.config_for(feedback)
        features = self._member_features(series, tuple(config["members"]))
        combined = combined_surprise(features, config["members"], config["memory"], config["floor"])
        if feedback is None or not feedback.hints:
            return combined
        return np.where(hint_mask(series, feedback), combined * self.hint_boost, combined)

    def decision_threshold(self, feedback: SeriesFeedback | None = None) -> float:
        """Learned threshold, raised on series with many false-positive verdicts."""
        multiplier = self.multipliers_.get(feedback.series_id, 1.0) if feedback else 1.0
        return float(self.config_for(feedback)["threshold"]) * multiplier

    def debounce_rows(self) -> int:
        """Learned quiet period after a detection (the global one; see `detect`)."""
        return int(self.config_["debounce"])

    def detect(
        self, values: npt.ArrayLike, *, feedback: SeriesFeedback | None = None, start_row: int = 0
    ) -> npt.NDArray[np.int64]:
        """Detections with the series' group configuration (threshold and debounce)."""
        return detections_from_scores(
            self.score(values, feedback),
            self.decision_threshold(feedback),
            debounce_rows=int(self.config_for(feedback)["debounce"]),
            start_row=start_row,
            escalation=self.escalation,
        )
