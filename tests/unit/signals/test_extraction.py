"""Extraction on a review file: structure, text rules and model proposals with exact provenance."""

from __future__ import annotations

import datetime as dt

from lessonloop.domain import SignalKind, SignalStatus
from lessonloop.services import signals as service
from lessonloop.services.reviews import get_review


def _by_extractor(result) -> dict[str, list]:
    out: dict[str, list] = {}
    for s in result.created:
        out.setdefault(s.provenance.extractor, []).append(s)
    return out


def _field_text(review, path: str) -> str:
    """The text a provenance field path points at in the stored review."""
    if path.startswith("insights["):
        return review.insights[int(path[9 : path.index("]")])].text
    if path.startswith("action_items["):
        return review.action_items[int(path[13 : path.index("]")])].title
    if path.startswith("alert_notes["):
        return review.alert_notes[int(path[12 : path.index("]")])].alert
    return getattr(review, path)


def test_extraction_proposes_every_kind_with_exact_spans(demo_ws) -> None:
    result = service.extract_review(demo_ws, "INC-2026-0042")
    review = get_review(demo_ws, "INC-2026-0042")
    found = _by_extractor(result)
    assert all(s.status == SignalStatus.PROPOSED for s in result.created)

    windows = found["structure.timeline"]
    assert {(w.payload.service, w.payload.series) for w in windows} == {
        ("checkout", "latency_p99"),
        ("payments", "*"),
    }
    assert windows[0].payload.start == dt.datetime(2026, 3, 2, 10, 12, tzinfo=dt.UTC)
    assert windows[0].payload.end == dt.datetime(2026, 3, 2, 11, 5, tzinfo=dt.UTC)
    assert windows[0].payload.start_source == "timeline:first symptom"
    assert windows[0].provenance.timeline_position == 0

    verdicts = {s.payload.verdict.value: s for s in found["structure.alerts"]}
    assert verdicts["late"].payload.matchers[0].value == "HighLatencyP99"
    assert str(verdicts["noise"].payload.matchers[1]) == 'host=~"batch-.*"'

    hint = found["structure.actions"][0].payload
    assert (hint.service, hint.series, hint.value, hint.for_minutes) == (
        "checkout",
        "latency_p99",
        400.0,
        5.0,
    )

    change = found["text.threshold-change"][0]
    assert (change.payload.value, change.payload.replaces, change.payload.for_minutes) == (
        400.0,
        800.0,
        5.0,
    )
    assert change.payload.series == "p99_latency"

    noise = [s for s in found["text.noise-statement"]]
    assert {s.kind for s in noise} == {SignalKind.ALERT_VERDICT, SignalKind.SUPPRESSION_RULE}
    assert noise[0].provenance.insight_id == review.insights[0].id
    gap = found["text.missing-data"][0]
    assert gap.payload.missing == "queue depth"
    corr = found["text.co-occurrence"][0]
    assert corr.payload.source[0].value == "DiskFull"
    assert found["structure.signal_block"][0].payload.missing == "connection pool saturation"

    for signal in result.created:
        p = signal.provenance
        assert p.review_id == review.id and p.incident_key == "INC-2026-0042"
        if p.span is not None:
            assert _field_text(review, p.field)[p.span[0] : p.span[1]] == p.text
    assert _field_text(review, change.provenance.field)[slice(*change.provenance.span)] == (
        "The p99 latency alert paged at 800 ms; it should fire at 400 ms for 5 minutes"
    )
    assert gap.provenance.text == "We had no metric for queue depth"


def test_model_proposals_are_never_auto_accepted(demo_ws) -> None:
    (demo_ws.settings.home / "signals.yaml").write_text(
        "auto_accept: {enabled: true, kinds: [incident_window, failure_mode_label], "
        "min_confidence: 0.0}\n"
    )

    class Always:
        def suggest(self, text):
            from types import SimpleNamespace

            return [SimpleNamespace(label="config-change", probability=0.99, suggested=True)]

    result = service.extract_review(demo_ws, "INC-2026-0042", classifier=Always())
    labels = [s for s in result.created if s.kind == SignalKind.FAILURE_MODE_LABEL]
    assert labels and labels[0].provenance.extractor == "model.failure_mode"
    accepted = {s.id for s in service.list_signals(demo_ws, status=SignalStatus.ACCEPTED)}
    assert labels[0].id not in accepted
    windows = {s.id for s in result.created if s.kind == SignalKind.INCIDENT_WINDOW}
    assert windows and windows <= accepted == set(result.auto_accepted)


def test_auto_accept_is_off_by_default_and_reextraction_never_duplicates(demo_ws) -> None:
    first = service.extract_review(demo_ws, "INC-2026-0042", use_model=False)
    assert first.created and not first.auto_accepted
    window = next(s for s in first.created if s.kind == SignalKind.INCIDENT_WINDOW)
    service.accept_signal(demo_ws, window.id, ["end=2026-03-02T11:30:00Z"])
    again = service.extract_review(demo_ws, "INC-2026-0042", use_model=False)
    assert again.created == []
    assert len(again.existing) == len(first.created)
    assert len(service.list_signals(demo_ws)) == len(first.created)


def test_user_pattern_file_extends_the_rules(demo_ws) -> None:
    (demo_ws.settings.home / "patterns.yaml").write_text(
        "rules:\n  - name: blind-spot\n    kind: instrumentation_gap\n    confidence: 0.4\n"
        "    where: [prose]\n    pattern: 'skipped\\s+the\\s+(?P<missing>canary\\s+stage)'\n"
    )
    result = service.extract_review(demo_ws, "INC-2026-0042", use_model=False)
    custom = [s for s in result.created if s.provenance.extractor == "text.blind-spot"]
    assert len(custom) == 1
    assert custom[0].payload.missing == "canary stage"
    assert custom[0].provenance.field == "contributing_factors[0]"
    assert custom[0].provenance.text == "skipped the canary stage"


def test_model_proposals_name_the_workspace_taxonomy_as_keys(demo_ws) -> None:
    from lessonloop.domain.signals import label_words
    from lessonloop.services import knowledge

    knowledge.add_taxonomy_term(
        demo_ws, "failure_mode", "queue backlog", keywords=("queue depth", "backlog")
    )
    result = service.extract_review(demo_ws, "INC-2026-0042")
    labels = [s for s in result.created if s.kind == SignalKind.FAILURE_MODE_LABEL]
    terms = {label_words(t.value) for t in knowledge.list_taxonomy(demo_ws, "failure_mode")}
    assert labels, "the review mentions a queue backlog"
    assert "queue_backlog" in {s.payload.label for s in labels}
    assert all(label_words(s.payload.label) in terms for s in labels)
    assert {s.provenance.extractor_version for s in labels} == {"keywords"}


def test_a_suggestion_already_decided_is_not_proposed_again_by_another_model(demo_ws) -> None:
    from types import SimpleNamespace

    class Suggests:
        def __init__(self, label: str) -> None:
            self.label = label

        def suggest(self, text):
            return [SimpleNamespace(label=self.label, probability=0.9, suggested=True)]

    first = service.extract_review(demo_ws, "INC-2026-0042", use_model=False)
    assert not [s for s in first.created if s.kind == SignalKind.FAILURE_MODE_LABEL]
    made = service.extract_review(demo_ws, "INC-2026-0042", classifier=Suggests("retry storm"))
    (label,) = [s for s in made.created if s.kind == SignalKind.FAILURE_MODE_LABEL]
    assert label.payload.label == "retry_storm"
    service.reject_signal(demo_ws, label.id, "not a retry storm")
    # The workspace's keyword model (another extractor version) and another spelling of the
    # same term: neither proposes the rejected label again.
    again = service.extract_review(demo_ws, "INC-2026-0042", classifier=Suggests("Retry-Storm"))
    assert not [s for s in again.created if s.kind == SignalKind.FAILURE_MODE_LABEL]
    assert [s.id for s in again.existing if s.kind == SignalKind.FAILURE_MODE_LABEL] == [label.id]
    other = service.extract_review(demo_ws, "INC-2026-0042", classifier=Suggests("dns"))
    assert [s.payload.label for s in other.created] == ["dns"]


def test_a_signals_block_label_belongs_to_the_reviews_incident(workspace, tmp_path) -> None:
    from lessonloop.domain import ServiceCreate
    from lessonloop.services.reviews import import_review
    from lessonloop.storage import services

    from .conftest import REVIEW_FILE

    with workspace.transaction() as session:
        for name in ("checkout", "payments"):
            services.create(ServiceCreate(name=name), session=session, actor="tester")
    text = REVIEW_FILE.read_text().replace(
        "```yaml\n- kind: instrumentation_gap",
        "```yaml\n- kind: failure_mode_label\n  label: capacity exhaustion\n"
        "- kind: instrumentation_gap",
    )
    path = tmp_path / "review.md"
    path.write_text(text)
    import_review(workspace, path, create_incident=True)
    result = service.extract_review(workspace, "INC-2026-0042", use_model=False)
    blocks = [s for s in result.created if s.provenance.extractor == "structure.signal_block"]
    labels = [s.payload for s in blocks if s.kind == SignalKind.FAILURE_MODE_LABEL]
    assert [(p.incident_key, p.label) for p in labels] == [
        ("INC-2026-0042", "capacity_exhaustion")
    ]
    assert not [p for p in result.problems if "incident_key" in p.field]


def test_taxonomy_terms_in_any_script_become_labels_and_a_bad_one_is_a_problem(demo_ws) -> None:
    from lessonloop.services import knowledge

    knowledge.add_taxonomy_term(demo_ws, "failure_mode", "file d'attente pleine",
                                keywords=("queue depth",))
    knowledge.add_taxonomy_term(demo_ws, "failure_mode", "队列 积压", keywords=("backlog",))
    knowledge.add_taxonomy_term(demo_ws, "failure_mode", "!!!", keywords=("backlog",))
    result = service.extract_review(demo_ws, "INC-2026-0042")
    labels = {s.payload.label for s in result.created if s.kind == SignalKind.FAILURE_MODE_LABEL}
    assert {"file_d_attente_pleine", "队列_积压"} <= labels
    assert any("'!!!' cannot be a label" in p.message for p in result.problems)
    assert [s for s in result.created if s.kind == SignalKind.INCIDENT_WINDOW]  # the rest ran


def test_a_detect_action_whose_expected_effect_is_not_a_stored_series_gives_no_hint(
    workspace, review_file, tmp_path
) -> None:
    """`mttd down checkout` names a programme metric: a hint on it would export `mttd{...}`."""
    import numpy as np

    from lessonloop.domain import ServiceCreate
    from lessonloop.services.reviews import import_review
    from lessonloop.storage import series, services

    text = review_file.read_text(encoding="utf-8")
    assert "| latency_p99 down checkout |" in text
    path = tmp_path / "review.md"
    path.write_text(text.replace("| latency_p99 down checkout |", "| mttd down checkout |"))
    with workspace.transaction() as session:
        for name in ("checkout", "payments"):
            services.create(ServiceCreate(name=name), session=session, actor="tester")
        ts = np.arange(1772445600, 1772445600 + 3600, 60)
        series.put("checkout", "latency_p99", ts, np.ones(ts.size), session=session, actor="t")
    import_review(workspace, path, create_incident=True)
    result = service.extract_review(workspace, "INC-2026-0042")
    assert "structure.actions" not in _by_extractor(result)
    (problem,) = [p for p in result.problems if p.field == "action_items[0].title"]
    assert "'mttd', which is not a stored series of checkout (stored: latency_p99)" in (
        problem.message
    )
    assert "Signals block" in problem.message
