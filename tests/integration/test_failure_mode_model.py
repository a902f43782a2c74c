"""The failure-mode classifier learns the workspace's taxonomy from labels written as keys."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.factories import accept_failure_mode

from lessonloop.domain import IncidentCreate, ServiceCreate
from lessonloop.domain.enums import SignalKind
from lessonloop.domain.signals import (
    FailureModeLabel,
    label_key,
    label_words,
)
from lessonloop.errors import InputError
from lessonloop.services import knowledge, signals
from lessonloop.services.failure_modes import labelled_texts, workspace_classifier
from lessonloop.services.triage import learn_failure_modes, triage
from lessonloop.storage import audit, incidents, services

T0 = dt.datetime(2025, 3, 3, tzinfo=dt.UTC)
STORIES = [
    ("retry_storm", "Clients hammered checkout with retries after a blip; no backoff, load x3"),
    ("Lock-Contention", "Row locks on the orders table blocked every checkout write"),
    ("dns", "Resolver returned NXDOMAIN for internal names after a zone change"),
    ("queue_overflow", "The payment queue overflowed and messages were dropped"),
]


def _build(ws, n: int = 16) -> list[str]:
    keys = []
    with ws.transaction() as session:
        services.create(ServiceCreate(name="checkout"), session=session, actor="t")
        for number in range(n):
            label, text = STORIES[number % len(STORIES)]
            key = f"INC-{number:03d}"
            incidents.create(
                IncidentCreate(
                    key=key,
                    title=text.split(";")[0],
                    services=["checkout"],
                    started_at=T0 + dt.timedelta(days=number),
                    summary=text,
                ),
                session=session,
                actor="t",
            )
            accept_failure_mode(session, key, label)
            keys.append(key)
    signals.cut(ws)
    return keys


def test_label_spellings() -> None:
    assert label_key("retry storm") == "retry_storm"
    assert label_key(" Capacity Exhaustion ") == "capacity_exhaustion"
    assert label_key("Lock-Contention") == "Lock-Contention"  # already a key: kept
    assert label_words("Lock-Contention") == label_words("lock contention") == "lock contention"
    assert FailureModeLabel(incident_key="A-1", label="memory leak").label == "memory_leak"


def test_labels_are_read_as_taxonomy_terms_and_unknown_labels_are_reported(workspace) -> None:
    _build(workspace)
    data = labelled_texts(workspace)
    assert {term for row in data.labels for term in row} == {
        "retry storm",
        "lock contention",
        "dns",
    }
    assert len(data.keys) == 12  # the four queue_overflow incidents name no taxonomy term
    assert dict(data.ignored) == {"queue_overflow": 4}

    result = learn_failure_modes(workspace)
    assert result.ignored_labels == {"queue_overflow": 4}
    assert result.holdout_incidents == 3


def test_a_term_added_to_the_taxonomy_is_learned_after_the_next_training(workspace) -> None:
    keys = _build(workspace)
    knowledge.add_taxonomy_term(workspace, "failure_mode", "queue overflow", keywords=("xyzzy",))
    data = labelled_texts(workspace)
    assert not data.ignored and len(data.keys) == 16
    from lessonloop.services import registry
    from lessonloop.services.triage import train_failure_mode_classifier

    version = train_failure_mode_classifier(workspace)
    assert version.config["ignored_labels"] == {}
    assert "queue overflow" in version.config["labels"]
    # Only an approved model is used for triage and extraction.
    assert workspace_classifier(workspace)[1] is None
    registry.approve_version(workspace, version.id, reason="reviewed")
    classifier, used = workspace_classifier(workspace)
    assert used == version.id
    text = "The payment queue overflowed again and messages were dropped"
    top = classifier.suggest(text)[0]
    assert top.label == "queue overflow" and top.suggested
    report = triage(workspace, keys[3])
    assert report.model_version == version.id
    assert report.suggestions[0].label == "queue overflow"
    extracted = signals.list_signals(workspace, kind=SignalKind.FAILURE_MODE_LABEL)
    assert all(" " not in s.payload.label for s in extracted)


def test_the_model_in_use_is_not_scored_on_incidents_it_was_trained_on(workspace) -> None:
    from lessonloop.services import registry

    _build(workspace)
    knowledge.add_taxonomy_term(workspace, "failure_mode", "queue overflow", keywords=("xyzzy",))
    knowledge.add_taxonomy_term(workspace, "failure_mode", "ledger drift", keywords=("xyzzy",))
    with workspace.transaction() as session:
        for number in range(16, 20):  # the newest incidents: the holdout of the backtest
            key = f"INC-{number:03d}"
            incidents.create(
                IncidentCreate(
                    key=key,
                    title="Zorblax reconciliation mismatch",
                    services=["checkout"],
                    started_at=T0 + dt.timedelta(days=number),
                    summary="The zorblax ledger drifted from the bank statement overnight",
                ),
                session=session,
                actor="t",
            )
            accept_failure_mode(session, key, "ledger_drift")
    signals.cut(workspace)
    first = learn_failure_modes(workspace)
    registry.approve_version(workspace, first.candidate_id, reason="reviewed")
    # Same labels, same split: the model in use, refitted on the candidate's training
    # incidents, is the candidate's twin. Scored as registered (trained on every labelled
    # incident, the holdout among them, so it knows "ledger drift") it would look better.
    again = learn_failure_modes(workspace)
    assert again.baseline.startswith(f"model version {first.candidate_id}")
    assert again.metrics == again.baseline_metrics
    assert again.decision == "not distinguishable"


def test_signals_check_reports_labels_outside_the_taxonomy(workspace) -> None:
    _build(workspace, 4)
    report = signals.check(workspace)
    unknown = [f for f in report.findings if f.check == "unknown_label"]
    assert len(unknown) == 1 and "'queue_overflow'" in unknown[0].message
    assert unknown[0].severity == "warn"
    knowledge.add_taxonomy_term(workspace, "failure_mode", "queue overflow")
    assert not [f for f in signals.check(workspace).findings if f.check == "unknown_label"]


def test_removing_a_term_a_model_learned_names_the_model(workspace, tmp_path) -> None:
    import os
    import subprocess
    from pathlib import Path

    from lessonloop.services.failure_modes import models_using_term
    from lessonloop.services.triage import train_failure_mode_classifier

    _build(workspace)
    version = train_failure_mode_classifier(workspace)
    assert models_using_term(workspace, "retry_storm") == [version.id]
    assert "time" in version.config["labels"] and "time" not in version.config["learned_labels"]
    assert models_using_term(workspace, "time") == []  # a term with no labels: keywords only
    env = dict(
        os.environ,
        LESSONLOOP_HOME=str(workspace.settings.home),
        LESSONLOOP_DATABASE_URL=workspace.settings.resolved_database_url,
    )
    lessonloop = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "lessonloop"
    done = subprocess.run(
        [str(lessonloop), "taxonomy", "remove", "failure_mode", "retry storm"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert f"model version(s) {version.id} learned" in " ".join(done.stdout.split())
    classifier, _ = workspace_classifier(workspace)
    assert "retry storm" not in classifier.taxonomy.labels
    assert labelled_texts(workspace).ignored["retry_storm"] == 4


def test_triage_stops_suggesting_a_label_rejected_for_the_incident(workspace) -> None:
    keys = _build(workspace, 4)
    before = {s.label: s for s in triage(workspace, keys[0]).suggestions}
    assert before["retry storm"].suggested  # keywords: "retries", and the accepted label
    with workspace.transaction() as session:
        from lessonloop.domain.signals import SignalCreate, SignalProvenance
        from lessonloop.storage import signals as signal_store

        made, _ = signal_store.create_proposal(
            SignalCreate(
                payload=FailureModeLabel(incident_key=keys[0], label="dependency outage"),
                provenance=SignalProvenance(incident_key=keys[0], extractor="test"),
            ),
            session=session,
            actor="t",
        )
        signal_store.reject(made.id, "not this", session=session, actor="t")
    report = triage(workspace, keys[0])
    after = {s.label: s for s in report.suggestions}
    assert report.decided == {"retry storm": "accepted", "dependency outage": "rejected"}
    assert not after["dependency outage"].suggested
    assert after["retry storm"].suggested


def test_each_learn_run_is_an_experiment(workspace) -> None:
    from lessonloop.domain.enums import ModelTask
    from lessonloop.services import registry
    from lessonloop.services.precedent_model import learn_precedents

    _build(workspace)
    result = learn_failure_modes(workspace)
    precedent = learn_precedents(workspace)
    for task, version in ((ModelTask.FAILURE_MODE, result.candidate_id),
                          (ModelTask.PRECEDENT, precedent.candidate_id)):
        (experiment,) = registry.list_experiments(workspace, task=task)
        assert experiment.candidate_version_id == version
        assert experiment.decision.value in ("better", "worse", "not distinguishable")


def test_a_refused_learn_run_cuts_no_signal_set_and_writes_no_audit_event(workspace) -> None:
    keys = _build(workspace, n=8)  # 6 incidents with labels naming taxonomy terms
    with workspace.transaction() as session:
        accept_failure_mode(session, keys[0], "dns")  # a cut now would store a new set
        before = len(audit.list_events(session=session, limit=10_000))
    sets = [s.version for s in signals.list_sets(workspace)]
    with pytest.raises(InputError, match=r"only 6 incidents .*queue_overflow"):
        learn_failure_modes(workspace)
    assert [s.version for s in signals.list_sets(workspace)] == sets
    with workspace.transaction() as session:
        assert len(audit.list_events(session=session, limit=10_000)) == before
