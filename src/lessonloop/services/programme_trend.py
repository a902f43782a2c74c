"""The learning programme over time: a few headline metrics per month or quarter, and a plot.

Each period is ``programme_metrics`` over the incidents that started in it (docs/programme.md),
so a period's review coverage or repeats mean exactly what they mean in the report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lessonloop.domain.common import utc_now
from lessonloop.errors import InputError
from lessonloop.services import catalog
from lessonloop.services.outputs import save_figure
from lessonloop.services.programme import metrics_of, read_snapshot, window_of
from lessonloop.services.programme_sections import as_utc
from lessonloop.services.workspace import Workspace

__all__ = ["MAX_PERIODS", "PERIODS", "TrendPoint", "plot_trend", "programme_trend"]

PERIODS = ("month", "quarter")
MAX_PERIODS = 120


@dataclass(frozen=True)
class TrendPoint:
    """The headline metrics of one period (shares 0-1, None where nothing was measured)."""

    period: str  # 2026Q1 or 2026-03
    start: dt.datetime
    end: dt.datetime
    incidents: int
    review_coverage_share: float | None
    days_to_signoff_median: float | None
    action_items: int
    action_items_done_share: float | None
    signal_acceptance_share: float | None
    promotions: int
    repeats: int
    repeat_after_review_share: float | None

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"], data["end"] = self.start.isoformat(), self.end.isoformat()
        return data


def _period_start(moment: dt.datetime, period: str) -> dt.datetime:
    month = moment.month if period == "month" else 3 * ((moment.month - 1) // 3) + 1
    return dt.datetime(moment.year, month, 1, tzinfo=dt.UTC)


def _next(start: dt.datetime, period: str) -> dt.datetime:
    months = start.month - 1 + (1 if period == "month" else 3)
    return start.replace(year=start.year + months // 12, month=months % 12 + 1)


def _label(start: dt.datetime, period: str) -> str:
    return f"{start:%Y-%m}" if period == "month" else f"{start.year}Q{(start.month - 1) // 3 + 1}"


def _bounds(
    ws: Workspace, period: str, since: dt.datetime | None, until: dt.datetime | None
) -> list[tuple[dt.datetime, dt.datetime]]:
    """Calendar periods from the one holding `since` (default: the first incident) up to
    `until` (default: now), at most MAX_PERIODS."""
    if period not in PERIODS:
        raise InputError(f"unknown period {period!r}; choose {' or '.join(PERIODS)}", field="by")
    first = since or min((i.started_at for i in catalog.list_incidents(ws)), default=None)
    end = until or utc_now()
    if first is None or end <= first:
        return []
    out, start = [], _period_start(first, period)
    while start < end:
        out.append((start, _next(start, period)))
        if len(out) > MAX_PERIODS:
            raise InputError(
                f"more than {MAX_PERIODS} {period}s; narrow --since/--until or use a longer period",
                field="by",
            )
        start = out[-1][1]
    return out


def programme_trend(
    ws: Workspace,
    *,
    period: str = "quarter",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    now: dt.datetime | None = None,
) -> list[TrendPoint]:
    """One point per calendar period; the first and last periods are whole ones."""
    points = []
    bounds = _bounds(ws, period, as_utc(since), as_utc(until))
    if not bounds:
        return []
    snapshot = read_snapshot(ws)
    as_of = as_utc(now) or utc_now()
    for start, end in bounds:
        m = metrics_of(snapshot, window_of(start, end), as_of)
        done = m.action_items.done
        points.append(
            TrendPoint(
                period=_label(start, period),
                start=start,
                end=end,
                incidents=m.reviews.incidents,
                review_coverage_share=m.reviews.coverage_share,
                days_to_signoff_median=m.reviews.days_to_signoff_median,
                action_items=m.action_items.action_items,
                action_items_done_share=(
                    round(done / m.action_items.action_items, 4)
                    if m.action_items.action_items
                    else None
                ),
                signal_acceptance_share=m.signals.acceptance_share,
                promotions=m.models.promotions,
                repeats=m.recurrence.repeats,
                repeat_after_review_share=m.recurrence.repeat_after_review_share,
            )
        )
    return points


def plot_trend(points: list[TrendPoint], out: Path) -> Path:
    """Write a PNG: shares (coverage, items done, acceptance) above, counts (incidents,
    repeats, promotions) and days to sign-off below."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [p.period for p in points]
    xs = range(len(points))

    def values(name: str) -> list[float]:
        return [float("nan") if getattr(p, name) is None else getattr(p, name) for p in points]

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(max(6.4, 0.6 * len(points)), 6.4))
    for name, label in (
        ("review_coverage_share", "incidents reviewed"),
        ("action_items_done_share", "action items done"),
        ("signal_acceptance_share", "signals accepted"),
        ("repeat_after_review_share", "repeats after a review"),
    ):
        top.plot(xs, values(name), "o-", label=label)
    top.set_ylim(-0.05, 1.05)
    top.set_ylabel("share")
    top.set_title("The learning programme by period")
    top.legend(fontsize="small")
    width = 0.25
    for offset, (name, label) in enumerate(
        (("incidents", "incidents"), ("repeats", "repeats"), ("promotions", "promotions"))
    ):
        bottom.bar([x + (offset - 1) * width for x in xs], values(name), width, label=label)
    if any(p.days_to_signoff_median is not None for p in points):
        days = bottom.twinx()
        days.plot(xs, values("days_to_signoff_median"), "s--", color="#555")
        days.set_ylabel("median days to sign-off (dashed)")
    bottom.set_ylabel("count")
    bottom.legend(fontsize="small", framealpha=0.9)
    for axis in (top, bottom):
        axis.set_xticks(
            list(xs),
            labels,
            rotation=45 if len(points) > 5 else 0,
            ha="right" if len(points) > 5 else "center",
        )
        axis.grid(alpha=0.3)
    fig.tight_layout()
    try:
        save_figure(fig, out)
    finally:
        plt.close(fig)
    return out
