"""Metric anomaly detectors and the learners that tune them from human feedback.

Imports only NumPy, SciPy, scikit-learn and skops (runs anywhere, including Dask workers).
"""

from lessonloop.detectors.base import (
    Detector,
    detector_names,
    load_detector,
    make_detector,
    register_detector,
)
from lessonloop.detectors.basic import LevelShift, PatternNovelty, RollingZScore
from lessonloop.detectors.combiner import SupervisedCombiner
from lessonloop.detectors.ensemble import SurpriseEnsemble
from lessonloop.detectors.feedback import (
    FalsePositiveVerdict,
    LabelWindow,
    OperatorProfile,
    SeriesFeedback,
    ThresholdHint,
)
from lessonloop.detectors.learners import FeedbackCalibratedEnsemble
from lessonloop.detectors.record_learner import RecordAwareEnsemble
from lessonloop.detectors.seq_learner import SampledSequenceEnsemble, SequenceAwareEnsemble
from lessonloop.detectors.seq_window import WindowNovelty
from lessonloop.detectors.thresholding import debounce, detections_from_scores, operator_utility

__all__ = [
    "Detector",
    "FalsePositiveVerdict",
    "FeedbackCalibratedEnsemble",
    "LabelWindow",
    "LevelShift",
    "OperatorProfile",
    "PatternNovelty",
    "RecordAwareEnsemble",
    "RollingZScore",
    "SampledSequenceEnsemble",
    "SequenceAwareEnsemble",
    "SeriesFeedback",
    "SupervisedCombiner",
    "SurpriseEnsemble",
    "ThresholdHint",
    "WindowNovelty",
    "debounce",
    "detections_from_scores",
    "detector_names",
    "load_detector",
    "make_detector",
    "operator_utility",
    "register_detector",
]
