"""Alert noise and correlation: which alert families page for nothing, and which alerts are
symptoms of another alert that already paged, learned from the alert history, its links to
incidents, and the reviewers' verdicts and rules.

Imports only ``domain`` (pure: no storage, no I/O), like ``detectors`` and ``text``.
"""

from lessonloop.alerting.linking import DEFAULT_OPEN_FOR, IncidentSpan, link_alerts
from lessonloop.alerting.noise import (
    AlertNoiseLearner,
    AlertPolicy,
    Firing,
    Inhibition,
    Prior,
    Suppression,
    Verdict,
    family_of,
)

__all__ = [
    "DEFAULT_OPEN_FOR",
    "AlertNoiseLearner",
    "AlertPolicy",
    "Firing",
    "IncidentSpan",
    "Inhibition",
    "Prior",
    "Suppression",
    "Verdict",
    "family_of",
    "link_alerts",
]
