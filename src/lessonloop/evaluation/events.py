"""Event-level detection metrics: precision/recall/F1, time to detect, MTTD, false alerts per day.

Times are plain numbers in minutes (e.g. minutes since an epoch; see `minutes_since_epoch`), so
the functions work for backtests on any clock.

Example::

    metrics = event_metrics([(100.0, 160.0)], [112.0, 400.0], observed_minutes=1440.0)
    metrics.recall, metrics.mttd_minutes, metrics.false_alerts_per_day  # 1.0, 12.0, 1.0
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["EventMetrics", "event_metrics", "time_to_detect", "minutes_since_epoch"]

MINUTES_PER_DAY = 1440.0


@dataclass(frozen=True)
class EventMetrics:
    """Event-level outcome of a set of alerts against a set of incidents."""

    incidents: int
    detected: int
    alerts: int
    true_alerts: int
    false_alerts: int
    precision: float
    recall: float
    f1: float
    mttd_minutes: float
    false_alerts_per_day: float
    time_to_detect: tuple[float, ...]


def minutes_since_epoch(times: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """Datetime-like values (datetime64, ISO strings) as float minutes since 1970-01-01."""
    stamps = np.asarray(times, dtype="datetime64[s]")
    return stamps.astype(np.int64).astype(np.float64) / 60.0


def time_to_detect(
    incidents: Sequence[tuple[float, float]],
    alert_times: npt.ArrayLike,
    *,
    early_tolerance_minutes: float = 0.0,
) -> npt.NDArray[np.float64]:
    """Per incident: minutes from start to the first alert in [start - tolerance, end], or NaN.

    An alert fired within the tolerance before the start counts as detection at time 0.
    """
    alerts = np.sort(np.asarray(alert_times, dtype=np.float64))
    result = np.full(len(incidents), np.nan)
    for k, (start, end) in enumerate(incidents):
        first = int(np.searchsorted(alerts, start - early_tolerance_minutes, side="left"))
        if first < alerts.size and alerts[first] <= end:
            result[k] = max(0.0, float(alerts[first]) - start)
    return result


def event_metrics(
    incidents: Sequence[tuple[float, float]],
    alert_times: npt.ArrayLike,
    *,
    observed_minutes: float,
    early_tolerance_minutes: float = 0.0,
) -> EventMetrics:
    """Match alerts to incidents: an alert inside [start - tolerance, end] of any incident is true.

    MTTD is the median time to detect over detected incidents (NaN when none is detected);
    false alerts per day divide the false alerts by the observed span in days.
    """
    if observed_minutes <= 0:
        raise ValueError("observed_minutes must be positive")
    alerts = np.sort(np.asarray(alert_times, dtype=np.float64))
    is_true = np.zeros(alerts.size, dtype=bool)
    for start, end in incidents:
        is_true |= (alerts >= start - early_tolerance_minutes) & (alerts <= end)
    delays = time_to_detect(incidents, alerts, early_tolerance_minutes=early_tolerance_minutes)
    detected = int(np.count_nonzero(~np.isnan(delays)))
    true_alerts = int(is_true.sum())
    false_alerts = int(alerts.size - true_alerts)
    precision = true_alerts / alerts.size if alerts.size else 0.0
    recall = detected / len(incidents) if incidents else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0
    found = delays[~np.isnan(delays)]
    return EventMetrics(
        incidents=len(incidents),
        detected=detected,
        alerts=int(alerts.size),
        true_alerts=true_alerts,
        false_alerts=false_alerts,
        precision=precision,
        recall=recall,
        f1=f1,
        mttd_minutes=float(np.median(found)) if found.size else float("nan"),
        false_alerts_per_day=false_alerts / (observed_minutes / MINUTES_PER_DAY),
        time_to_detect=tuple(float(d) for d in delays),
    )
