"""The sampling grid shared by every generated series, and time formatting helpers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np

GRID_START = datetime(2025, 1, 6, tzinfo=UTC)
WEEKS_PER_QUARTER = 13


@dataclass(frozen=True)
class TimeGrid:
    """Regular samples every ``step_minutes`` over ``quarters`` 13-week blocks from GRID_START."""

    quarters: int
    step_minutes: int

    @property
    def points_per_day(self) -> int:
        """Samples in one day."""
        return 1440 // self.step_minutes

    @property
    def points_per_quarter(self) -> int:
        """Samples in one 13-week quarter."""
        return self.points_per_day * 7 * WEEKS_PER_QUARTER

    @property
    def n(self) -> int:
        """Total number of samples."""
        return self.points_per_quarter * self.quarters

    @property
    def end(self) -> datetime:
        """The first instant after the grid."""
        return self.at(self.n)

    def minutes(self) -> np.ndarray:
        """Minutes since GRID_START of every sample."""
        return np.arange(self.n, dtype=np.float64) * self.step_minutes

    def at(self, index: int) -> datetime:
        """Datetime of sample ``index``."""
        return GRID_START + timedelta(minutes=int(index) * self.step_minutes)

    def index_of(self, when: datetime) -> int:
        """Index of the first sample at or after ``when``."""
        minutes = (when - GRID_START).total_seconds() / 60.0
        return int(np.ceil(minutes / self.step_minutes - 1e-9))

    def quarter_of(self, when: datetime) -> int:
        """Index of the quarter block that contains ``when``."""
        days = (when - GRID_START).total_seconds() / 86400.0
        return int(days // (7 * WEEKS_PER_QUARTER))

    def quarter_label(self, quarter: int) -> str:
        """Label of a quarter block, e.g. ``2025Q1`` (blocks start on the Monday of week 2)."""
        return f"{GRID_START.year + quarter // 4}Q{quarter % 4 + 1}"

    def quarter_start(self, quarter: int) -> datetime:
        """First instant of quarter block ``quarter``."""
        return GRID_START + timedelta(weeks=WEEKS_PER_QUARTER * quarter)

    def iso_timestamps(self) -> list[str]:
        """ISO 8601 UTC strings (with Z) of every sample, built with NumPy for speed."""
        start = np.datetime64(GRID_START.replace(tzinfo=None), "m")
        stamps = start + np.arange(self.n, dtype=np.int64) * np.timedelta64(self.step_minutes, "m")
        return [f"{s}:00Z" for s in stamps.astype(str)]


def iso(when: datetime) -> str:
    """ISO 8601 UTC with a Z and whole seconds, as the source systems write it."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def minute_text(when: datetime) -> str:
    """``YYYY-MM-DD HH:MM`` in UTC, as reviewers write times in timelines."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M")
