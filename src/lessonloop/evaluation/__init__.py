"""Pure evaluation functions: NAB scoring, event metrics, bootstrap and paired comparisons."""

from lessonloop.evaluation.bootstrap import (
    Interval,
    PairedComparison,
    bootstrap_interval,
    paired_comparison,
)
from lessonloop.evaluation.events import (
    EventMetrics,
    event_metrics,
    minutes_since_epoch,
    time_to_detect,
)
from lessonloop.evaluation.nab import (
    CorpusScore,
    CostProfile,
    FileScore,
    FileTruth,
    holdout_split,
    nab_profiles,
    probation_length,
    score_corpus,
    score_file,
    timestamps_to_rows,
    window_rows,
)

__all__ = [
    "CorpusScore",
    "CostProfile",
    "EventMetrics",
    "FileScore",
    "FileTruth",
    "Interval",
    "PairedComparison",
    "bootstrap_interval",
    "event_metrics",
    "holdout_split",
    "minutes_since_epoch",
    "nab_profiles",
    "paired_comparison",
    "probation_length",
    "score_corpus",
    "score_file",
    "time_to_detect",
    "timestamps_to_rows",
    "window_rows",
]
