"""Incident text intelligence: failure-mode triage, precedents and remediation suggestions.

Pure models (NumPy / SciPy / scikit-learn / skops); no storage and no file I/O beyond the
explicit ``save`` / ``load`` of model artifacts. The sentence-embedding backend is optional.
"""

from lessonloop.text.classifier import FailureModeClassifier
from lessonloop.text.evidence import FailureModeSuggestion
from lessonloop.text.frontmatter import PostmortemDocument, parse_front_matter, parse_postmortem
from lessonloop.text.precedents import Precedent, PrecedentDocument, PrecedentRetriever
from lessonloop.text.remediation import (
    ActionItemRecord,
    IncidentRemediation,
    RemediationRecommender,
    RemediationSuggestion,
    rank_remediations,
)
from lessonloop.text.taxonomy import FailureMode, Taxonomy, default_failure_taxonomy

__all__ = [
    "ActionItemRecord",
    "FailureMode",
    "FailureModeClassifier",
    "FailureModeSuggestion",
    "IncidentRemediation",
    "PostmortemDocument",
    "Precedent",
    "PrecedentDocument",
    "PrecedentRetriever",
    "RemediationRecommender",
    "RemediationSuggestion",
    "Taxonomy",
    "default_failure_taxonomy",
    "parse_front_matter",
    "parse_postmortem",
    "rank_remediations",
]
