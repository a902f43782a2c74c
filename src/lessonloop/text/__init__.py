"""Incident text intelligence: failure-mode triage, precedents and remediation suggestions.

Pure models (NumPy / SciPy / scikit-learn / skops); no storage and no file I/O beyond the
explicit ``save`` / ``load`` of model artifacts. The sentence-embedding backend is optional.
"""

from __future__ import annotations

import importlib
from typing import Any

# Public names and the modules that define them, imported on first use: a light submodule
# (``text.tokens``) must not pull scikit-learn in through this package.
_EXPORTS = {
    "ActionItemRecord": "remediation",
    "FailureMode": "taxonomy",
    "FailureModeClassifier": "classifier",
    "FailureModeSuggestion": "evidence",
    "IncidentRemediation": "remediation",
    "PostmortemDocument": "frontmatter",
    "Precedent": "precedents",
    "PrecedentDocument": "precedents",
    "PrecedentRetriever": "precedents",
    "RemediationRecommender": "remediation",
    "RemediationSuggestion": "remediation",
    "Taxonomy": "taxonomy",
    "default_failure_taxonomy": "taxonomy",
    "parse_front_matter": "frontmatter",
    "parse_postmortem": "frontmatter",
    "rank_remediations": "remediation",
}

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


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    globals()[name] = value
    return value
