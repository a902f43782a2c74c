"""Signals from a review's structure: timeline markers, alert verdicts, detect actions, blocks."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import ValidationError

from lessonloop.domain.enums import ActionType, TimelineMarker
from lessonloop.domain.reviews import TimelineEvent
from lessonloop.domain.signals import (
    AlertVerdictPayload,
    IncidentWindow,
    SignalCreate,
    ThresholdHint,
    parse_matchers,
    payload_adapter,
)
from lessonloop.signals.context import (
    Extraction,
    ExtractionInput,
    ExtractionProblem,
    provenance_for,
)

__all__ = ["extract_structure", "STRUCTURE_VERSION"]

STRUCTURE_VERSION = "1"
_START_MARKERS = (TimelineMarker.FIRST_SYMPTOM, TimelineMarker.DETECTED)
_END_MARKERS = (TimelineMarker.MITIGATED, TimelineMarker.RESOLVED)


def _first(events: list[TimelineEvent], marker: TimelineMarker) -> int | None:
    return next((i for i, e in enumerate(events) if e.marker == marker), None)


def _bound(
    source: ExtractionInput, markers: tuple[TimelineMarker, ...], fallbacks: tuple[str, ...]
) -> tuple[dt.datetime, str, int | None] | None:
    """(time, what set it, timeline position) from the first marker present, else the incident."""
    events = source.review.timeline
    for marker in markers:
        position = _first(events, marker)
        if position is not None:
            return events[position].at, f"timeline:{marker.value}", position
    for name in fallbacks:
        value = getattr(source.incident, name)
        if value is not None:
            return value, f"incident.{name}", None
    return None


def _windows(source: ExtractionInput) -> Extraction:
    out = Extraction()
    start = _bound(source, _START_MARKERS, ("started_at",))
    end = _bound(source, _END_MARKERS, ("mitigated_at", "resolved_at"))
    if (
        start is None
        or end is None
        or start[1].startswith("incident")
        and end[1].startswith("incident")
    ):
        return out  # no reviewer marker: the incident's own times are not a new lesson
    if end[0] <= start[0]:
        out.problems.append(
            ExtractionProblem("timeline", f"window end {end[0]} is not after its start {start[0]}")
        )
        return out
    anchor = start[2] if start[2] is not None else end[2]
    text = source.review.timeline[anchor].text if anchor is not None else None
    for service in source.services:
        for series in source.series_by_service.get(service) or ["*"]:
            payload = IncidentWindow(
                service=service,
                series=series,
                start=start[0],
                end=end[0],
                start_source=start[1],
                end_source=end[1],
            )
            out.proposals.append(
                SignalCreate(
                    payload=payload,
                    confidence=0.9,
                    author=_author(source),
                    provenance=provenance_for(
                        source,
                        extractor="structure.timeline",
                        version=STRUCTURE_VERSION,
                        field="timeline",
                        timeline_position=anchor,
                        text=text,
                    ),
                )
            )
    return out


def _author(source: ExtractionInput) -> str | None:
    return source.review.authors[0] if source.review.authors else None


def _verdicts(source: ExtractionInput) -> Extraction:
    out = Extraction()
    for position, note in enumerate(source.review.alert_notes):
        where = f"alert_notes[{position}].alert"
        try:
            matchers = parse_matchers(note.alert)
        except ValueError as exc:
            out.problems.append(ExtractionProblem(where, str(exc)))
            continue
        out.proposals.append(
            SignalCreate(
                payload=AlertVerdictPayload(
                    matchers=matchers, verdict=note.verdict, reason=note.reason
                ),
                confidence=0.9,
                author=_author(source),
                provenance=provenance_for(
                    source,
                    extractor="structure.alerts",
                    version=STRUCTURE_VERSION,
                    field=where,
                    span=(0, len(note.alert)),
                    text=note.alert,
                ),
            )
        )
    return out


def _threshold_hints(source: ExtractionInput) -> Extraction:
    from lessonloop.signals.extract_text import parse_threshold_sentence

    out = Extraction()
    for position, item in enumerate(source.review.action_items):
        if item.type != ActionType.DETECT or item.expected_effect is None:
            continue
        where = f"action_items[{position}].title"
        found = parse_threshold_sentence(item.title)
        if found is None:
            out.problems.append(
                ExtractionProblem(
                    where, "a detect action with a metric but no threshold value in its title"
                )
            )
            continue
        service = item.expected_effect.service or next(iter(source.services), None)
        if service is None:
            out.problems.append(ExtractionProblem(where, "no service to apply the threshold to"))
            continue
        metric = item.expected_effect.metric
        stored = source.series_by_service.get(service) or []
        if metric not in stored:
            # An expected effect may name a programme metric (mttd, false_alerts_per_day): a
            # threshold on it would be exported as a Prometheus rule that never fires.
            shown = ", ".join(stored[:5]) + (", ..." if len(stored) > 5 else "")
            out.problems.append(
                ExtractionProblem(
                    where,
                    f"the expected effect names {metric!r}, which is not a stored series of "
                    f"{service} ({'stored: ' + shown if stored else 'none is stored'}), so no "
                    "threshold hint is proposed: write it in the review's Signals block "
                    f"(kind: threshold_hint, service: {service}, series: <a stored series>)",
                )
            )
            continue
        values, span = found
        out.proposals.append(
            SignalCreate(
                payload=ThresholdHint(service=service, series=metric, **values),
                confidence=0.8,
                author=item.owner or _author(source),
                provenance=provenance_for(
                    source,
                    extractor="structure.actions",
                    version=STRUCTURE_VERSION,
                    field=where,
                    span=span,
                    text=item.title[span[0] : span[1]],
                ),
            )
        )
    return out


# Kinds whose incident_key may be left out of a review's Signals block: it is the review's.
_OF_THIS_INCIDENT = frozenset({"failure_mode_label", "remediation_label", "precedent_feedback"})


def _blocks(source: ExtractionInput) -> Extraction:
    out = Extraction()
    for position, block in enumerate(source.review.signal_blocks):
        where = f"signal_blocks[{position}]"
        payload: dict[str, Any] = dict(block)
        if payload.get("kind") in _OF_THIS_INCIDENT:
            payload.setdefault("incident_key", source.incident.key)
        confidence = payload.pop("confidence", 1.0)
        valid_until = payload.pop("valid_until", None)
        for name in ("matchers", "source", "target", "while_firing"):
            if isinstance(payload.get(name), str):
                try:
                    payload[name] = [m.model_dump() for m in parse_matchers(payload[name])]
                except ValueError as exc:
                    out.problems.append(ExtractionProblem(f"{where}.{name}", str(exc)))
                    break
        else:
            try:
                out.proposals.append(
                    SignalCreate(
                        payload=payload_adapter.validate_python(payload),
                        confidence=confidence,
                        valid_until=valid_until,
                        author=_author(source),
                        provenance=provenance_for(
                            source,
                            extractor="structure.signal_block",
                            version=STRUCTURE_VERSION,
                            field=where,
                        ),
                    )
                )
            except ValidationError as exc:
                err = exc.errors()[0]
                loc = ".".join(str(p) for p in err["loc"][1:]) or next(
                    (w for w in str(err["msg"]).split() if w in payload), "kind"
                )
                out.problems.append(ExtractionProblem(f"{where}.{loc}", err["msg"]))
    return out


def extract_structure(source: ExtractionInput) -> Extraction:
    """Every structural proposal of one review (windows, verdicts, threshold hints, blocks)."""
    result = Extraction()
    for step in (_windows, _verdicts, _threshold_hints, _blocks):
        result.extend(step(source))
    return result
