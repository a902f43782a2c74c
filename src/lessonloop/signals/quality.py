"""Quality checks before a cut: findings graded block or warn by the policy."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeVar

from lessonloop.domain.enums import AlertVerdict, SignalKind
from lessonloop.domain.signals import (
    AlertVerdictPayload,
    FailureModeLabel,
    IncidentWindow,
    RemediationLabel,
    SignalRead,
    SuppressionRule,
    ThresholdHint,
    label_words,
)

__all__ = [
    "QualityPolicy",
    "QualityInput",
    "Finding",
    "QualityReport",
    "run_checks",
    "cohens_kappa",
    "merge_windows",
    "CHECKS",
]

Severity = Literal["block", "warn", "off"]
P = TypeVar("P")
Hits = list[tuple[str, tuple[int, ...]]]
CHECKS = (
    "conflicting",
    "overlapping",
    "expired",
    "no_series",
    "disagreement",
    "coverage",
    "unknown_label",
)


@dataclass(frozen=True)
class QualityPolicy:
    """How serious each check is (block stops a cut), and the coverage a severity needs."""

    severities: dict[str, Severity] = field(
        default_factory=lambda: {
            "conflicting": "block",
            "overlapping": "warn",
            "expired": "warn",
            "no_series": "warn",
            "disagreement": "warn",
            "coverage": "warn",
            "unknown_label": "warn",
        }
    )
    min_coverage: float = 0.0

    @classmethod
    def from_mapping(cls, data: dict[str, Any]) -> QualityPolicy:
        default = cls()
        severities = {**default.severities, **dict(data.get("severities") or {})}
        unknown = set(severities) - set(CHECKS)
        bad = {k: v for k, v in severities.items() if v not in ("block", "warn", "off")}
        if unknown or bad:
            raise ValueError(f"unknown checks {sorted(unknown)} or severities {bad}")
        return cls(severities=severities, min_coverage=float(data.get("min_coverage", 0.0)))


@dataclass(frozen=True)
class QualityInput:
    """Signals about to be cut, the incidents they should cover, and the stored series."""

    signals: list[SignalRead]
    incidents: dict[str, str]  # incident key -> severity
    series_by_service: dict[str, list[str]]
    now: dt.datetime
    # taxonomy name ("failure_mode", "remediation") -> its terms read as words; None: unchecked
    taxonomy_words: dict[str, set[str]] | None = None


@dataclass(frozen=True)
class Finding:
    check: str
    severity: Literal["block", "warn"]
    message: str
    signal_ids: tuple[int, ...] = ()


@dataclass
class QualityReport:
    findings: list[Finding] = field(default_factory=list)
    coverage: dict[str, float] = field(default_factory=dict)
    kappa: float | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def blocking(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "block"]


def _typed(signals: list[SignalRead], kind: type[P]) -> list[tuple[SignalRead, P]]:
    return [(s, s.payload) for s in signals if isinstance(s.payload, kind)]


def _of(signals: list[SignalRead], kind: SignalKind) -> list[SignalRead]:
    return [s for s in signals if s.kind == kind]


def _conflicting(data: QualityInput) -> Hits:
    out: Hits = []
    noise = [
        (s, p)
        for s, p in _typed(data.signals, AlertVerdictPayload)
        if p.verdict == AlertVerdict.NOISE
    ]
    for window, payload in _typed(data.signals, IncidentWindow):
        for verdict, matchers in noise:
            if verdict.provenance.incident_key == window.provenance.incident_key and all(
                m.matches({"service": payload.service}) for m in matchers.matchers
            ):
                out.append(
                    (
                        f"{window.provenance.incident_key}: {payload.service} is labelled an "
                        f"incident window (signal {window.id}) and noise (signal "
                        f"{verdict.id})",
                        (window.id, verdict.id),
                    )
                )
    return out


def merge_windows(windows: list[SignalRead]) -> list[tuple[IncidentWindow, tuple[int, ...]]]:
    """Overlapping windows on the same service and series merged, with the ids merged."""
    groups: dict[tuple[str, str], list[tuple[SignalRead, IncidentWindow]]] = defaultdict(list)
    for s, p in _typed(windows, IncidentWindow):
        groups[(p.service, p.series)].append((s, p))
    merged: list[tuple[IncidentWindow, tuple[int, ...]]] = []
    for members in groups.values():
        members.sort(key=lambda pair: (pair[1].start, pair[0].id))
        current: IncidentWindow | None = None
        ids: list[int] = []
        for s, w in members:
            if current is not None and w.start < current.end:
                current = current.model_copy(update={"end": max(current.end, w.end)})
                ids.append(s.id)
                continue
            if current is not None:
                merged.append((current, tuple(ids)))
            current, ids = w, [s.id]
        if current is not None:
            merged.append((current, tuple(ids)))
    return merged


def _overlapping(data: QualityInput) -> Hits:
    out: Hits = []
    for window, ids in merge_windows(_of(data.signals, SignalKind.INCIDENT_WINDOW)):
        if len(ids) > 1:
            out.append(
                (
                    f"windows {', '.join(map(str, ids))} on {window.service}/{window.series} "
                    f"overlap: merged into {window.start:%Y-%m-%d %H:%M}–"
                    f"{window.end:%Y-%m-%d %H:%M} for training",
                    ids,
                )
            )
    return out


def _expired(data: QualityInput) -> Hits:
    out: Hits = []
    for s in data.signals:
        until = s.valid_until
        if isinstance(s.payload, SuppressionRule) and s.payload.expires_at is not None:
            until = min(filter(None, (until, s.payload.expires_at)))
        if until is not None and until <= data.now:
            out.append(
                (
                    f"signal {s.id} ({s.kind.value}) expired at {until:%Y-%m-%d %H:%M}; it "
                    "is left out of the cut",
                    (s.id,),
                )
            )
    return out


def _no_series(data: QualityInput) -> Hits:
    out: Hits = []
    for s in data.signals:
        if not isinstance(s.payload, IncidentWindow | ThresholdHint):
            continue
        stored = data.series_by_service.get(s.payload.service, [])
        if (s.payload.series == "*" and not stored) or (
            s.payload.series != "*" and s.payload.series not in stored
        ):
            out.append(
                (
                    f"signal {s.id}: no stored series {s.payload.series!r} for "
                    f"{s.payload.service} to apply it to",
                    (s.id,),
                )
            )
    return out


_LABEL_TAXONOMY: dict[type, str] = {
    FailureModeLabel: "failure_mode",
    RemediationLabel: "remediation",
}


def _unknown_label(data: QualityInput) -> Hits:
    """Labels that name no term of their taxonomy: models trained on the set ignore them."""
    out: Hits = []
    if data.taxonomy_words is None:
        return out
    for s in data.signals:
        payload = s.payload
        if not isinstance(payload, FailureModeLabel | RemediationLabel):
            continue
        name = _LABEL_TAXONOMY[type(payload)]
        if label_words(payload.label) not in data.taxonomy_words.get(name, set()):
            out.append(
                (
                    f"signal {s.id}: label {payload.label!r} of {payload.incident_key} names "
                    f"no term of the {name} taxonomy (models ignore it; add the term with "
                    "'lessonloop taxonomy add' or correct the label)",
                    (s.id,),
                )
            )
    return out


def cohens_kappa(pairs: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters over paired labels; None when undefined (no pairs)."""
    if not pairs:
        return None
    n = len(pairs)
    observed = sum(a == b for a, b in pairs) / n
    labels = {x for pair in pairs for x in pair}
    expected = sum(
        (sum(a == x for a, _ in pairs) / n) * (sum(b == x for _, b in pairs) / n) for x in labels
    )
    return 1.0 if expected == 1 else (observed - expected) / (1 - expected)


def _rated_items(signals: list[SignalRead]) -> dict[tuple[str, str], dict[str, tuple[str, int]]]:
    items: dict[tuple[str, str], dict[str, tuple[str, int]]] = defaultdict(dict)
    for s, payload in _typed(signals, AlertVerdictPayload):
        rater = s.author or s.decided_by or "unknown"
        target = ",".join(sorted(str(m) for m in payload.matchers))
        items[(s.provenance.incident_key or "", target)][rater] = (payload.verdict.value, s.id)
    return items


def _disagreement(data: QualityInput, report: QualityReport) -> Hits:
    pairs: list[tuple[str, str]] = []
    out: Hits = []
    for (incident, target), ratings in _rated_items(data.signals).items():
        if len(ratings) < 2:
            continue
        (r1, (v1, id1)), (r2, (v2, id2)) = sorted(ratings.items())[:2]
        pairs.append((v1, v2))
        if v1 != v2:
            out.append((f"{incident}: {r1} says {v1}, {r2} says {v2} for {target}", (id1, id2)))
    report.kappa = cohens_kappa(pairs)
    if out:
        kappa = "undefined" if report.kappa is None else f"{report.kappa:.2f}"
        out = [
            (f"{msg} (Cohen's kappa over {len(pairs)} shared items: {kappa})", ids)
            for msg, ids in out
        ]
    return out


def _coverage(data: QualityInput, report: QualityReport, policy: QualityPolicy) -> Hits:
    covered = {s.provenance.incident_key for s in _of(data.signals, SignalKind.INCIDENT_WINDOW)}
    by_severity: dict[str, list[str]] = defaultdict(list)
    for key, severity in data.incidents.items():
        by_severity[severity].append(key)
    out: Hits = []
    for severity in sorted(by_severity):
        keys = by_severity[severity]
        share = sum(k in covered for k in keys) / len(keys)
        report.coverage[severity] = round(share, 4)
        if share < policy.min_coverage:
            out.append(
                (
                    f"{severity}: {share:.0%} of {len(keys)} incidents have a window "
                    f"(policy: {policy.min_coverage:.0%})",
                    (),
                )
            )
    return out


def run_checks(data: QualityInput, policy: QualityPolicy | None = None) -> QualityReport:
    """Every check, with findings graded by the policy (checks set to 'off' are skipped)."""
    policy = policy or QualityPolicy()
    report = QualityReport()
    expired = _expired(data)
    # The other checks look only at what a cut would keep: expired signals are left out.
    gone = {i for _, ids in expired for i in ids}
    live = replace(data, signals=[s for s in data.signals if s.id not in gone])
    checks: dict[str, Callable[[], list[tuple[str, tuple[int, ...]]]]] = {
        "conflicting": lambda: _conflicting(live),
        "overlapping": lambda: _overlapping(live),
        "expired": lambda: expired,
        "no_series": lambda: _no_series(live),
        "disagreement": lambda: _disagreement(live, report),
        "coverage": lambda: _coverage(live, report, policy),
        "unknown_label": lambda: _unknown_label(live),
    }
    for name, check in checks.items():
        severity = policy.severities.get(name, "warn")
        if severity == "off":
            continue
        for message, ids in check():
            report.findings.append(Finding(name, severity, message, ids))
            if name == "overlapping":
                report.notes.append(message)
    return report
