"""Incident text intelligence: failure-mode triage, precedents and remediation suggestions.

Pure models (NumPy / SciPy / scikit-learn / skops); no storage and no file I/O beyond the
explicit ``save`` / ``load`` of model artifacts. The sentence-embedding backend is optional.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and editors see; at run time, `__getattr__` below
    from lessonloop.text.classifier import FailureModeClassifier
    from lessonloop.text.evidence import FailureModeSuggestion
    from lessonloop.text.frontmatter import (
        PostmortemDocument,
        parse_front_matter,
        parse_postmortem,
    )
    from lessonloop.text.precedents import Precedent, PrecedentDocument, PrecedentRetriever
    from lessonloop.text.remediation import (
        ActionItemRecord,
        IncidentRemediation,
        RemediationRecommender,
        RemediationSuggestion,
        rank_remediations,
    )
    from lessonloop.text.taxonomy import FailureMode, Taxonomy, default_failure_taxonomy

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


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
