"""Bootstrap intervals and paired candidate-vs-baseline comparisons over resampled units.

A unit is whatever is independent in the experiment (a file, a quarter, an incident). Values are
one number per unit, or a row per unit when the statistic needs several (e.g. pooled ratios).

Example::

    verdict = paired_comparison(candidate_per_file, baseline_per_file, seed=7).verdict
    # "better", "worse" or "not distinguishable"
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["Interval", "PairedComparison", "bootstrap_interval", "paired_comparison"]

Statistic = Callable[[npt.NDArray[np.float64]], float]


@dataclass(frozen=True)
class Interval:
    """A point estimate with its percentile bootstrap interval."""

    estimate: float
    low: float
    high: float
    level: float


@dataclass(frozen=True)
class PairedComparison:
    """Candidate minus baseline on the same units, with a permutation p-value and a verdict."""

    difference: Interval
    p_value: float
    verdict: str
    units: int


def _mean(values: npt.NDArray[np.float64]) -> float:
    return float(np.mean(values))


def bootstrap_interval(
    values: npt.ArrayLike,
    statistic: Statistic = _mean,
    *,
    n_resamples: int = 2000,
    level: float = 0.95,
    seed: int = 0,
) -> Interval:
    """Percentile bootstrap interval of `statistic` by resampling units (rows) with replacement."""
    units = np.asarray(values, dtype=np.float64)
    if units.shape[0] == 0:
        raise ValueError("at least one unit is needed")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, units.shape[0], size=(n_resamples, units.shape[0]))
    draws = np.array([statistic(units[idx]) for idx in picks])
    tail = (1.0 - level) / 2.0
    low, high = np.nanquantile(draws, [tail, 1.0 - tail])
    return Interval(float(statistic(units)), float(low), float(high), level)


def paired_comparison(
    candidate: npt.ArrayLike,
    baseline: npt.ArrayLike,
    statistic: Statistic = _mean,
    *,
    higher_is_better: bool = True,
    n_resamples: int = 2000,
    level: float = 0.95,
    alpha: float = 0.05,
    seed: int = 0,
) -> PairedComparison:
    """Paired bootstrap of statistic(candidate) - statistic(baseline) plus a sign-flip test.

    The verdict is "better" (or "worse") only when the interval excludes zero on that side and
    the two-sided permutation p-value is below `alpha`; otherwise "not distinguishable".
    """
    cand = np.asarray(candidate, dtype=np.float64)
    base = np.asarray(baseline, dtype=np.float64)
    if cand.shape != base.shape or cand.shape[0] == 0:
        raise ValueError("candidate and baseline need the same, non-empty, units")
    n_units = cand.shape[0]
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, n_units, size=(n_resamples, n_units))
    diffs = np.array([statistic(cand[idx]) - statistic(base[idx]) for idx in picks])
    observed = statistic(cand) - statistic(base)
    tail = (1.0 - level) / 2.0
    low, high = np.nanquantile(diffs, [tail, 1.0 - tail])
    flips = rng.random((n_resamples, n_units)) < 0.5
    extreme = 0
    for flip in flips:
        mask = flip.reshape((n_units,) + (1,) * (cand.ndim - 1))
        swapped_cand = np.where(mask, base, cand)
        swapped_base = np.where(mask, cand, base)
        permuted = statistic(swapped_cand) - statistic(swapped_base)
        extreme += int(abs(permuted) >= abs(observed) - 1e-12)
    p_value = (1 + extreme) / (1 + n_resamples)
    gain = observed if higher_is_better else -observed
    gain_low = low if higher_is_better else -high
    gain_high = high if higher_is_better else -low
    verdict = "not distinguishable"
    if p_value < alpha and gain > 0 and gain_low > 0:
        verdict = "better"
    elif p_value < alpha and gain < 0 and gain_high < 0:
        verdict = "worse"
    interval = Interval(float(observed), float(low), float(high), level)
    return PairedComparison(interval, float(p_value), verdict, n_units)
