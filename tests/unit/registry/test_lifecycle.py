"""Status machine, approval policy, promotion and rollback, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from lessonloop.domain import ServiceCreate
from lessonloop.domain.enums import ModelStatus, ModelTask
from lessonloop.domain.models import ModelVersionCreate
from lessonloop.errors import Conflict, InputError, IntegrityError
from lessonloop.registry import lifecycle
from lessonloop.registry.artifacts import save_artifact
from lessonloop.storage import audit, services
from lessonloop.storage import models as store

TASK = ModelTask.METRIC_ANOMALY


def _version(session, **config) -> int:
    return store.create_version(
        ModelVersionCreate(task=TASK, config=config), session=session, actor="trainer"
    ).id


def _approved(session, **config) -> int:
    version_id = _version(session, **config)
    lifecycle.approve(version_id, approver="ana", reason="better MTTD", session=session)
    return version_id


def test_one_approval_suffices_outside_tier_one(session) -> None:
    version_id = _version(session)
    state = lifecycle.approve(version_id, approver="ana", reason="looks right", session=session)
    assert state.approved and state.version.status == ModelStatus.APPROVED
    assert [a.reason for a in state.approvals] == ["looks right"]
    assert audit.list_events(session=session, entity_type="model_version")[0].actor == "ana"


def test_tier_one_needs_two_distinct_approvers(session) -> None:
    services.create(ServiceCreate(name="payments", tier=1), session=session, actor="t")
    version_id = _version(session, services=["payments"])
    state = lifecycle.approve(version_id, approver="ana", reason="ok", session=session)
    assert not state.approved and state.version.status == ModelStatus.CANDIDATE
    assert state.required == 2
    for same_person in ("ana", "Ana", "  ana ", "ANA"):
        with pytest.raises(Conflict, match="someone else"):
            lifecycle.approve(version_id, approver=same_person, reason="again", session=session)
    with pytest.raises(InputError, match="reason"):
        lifecycle.approve(version_id, approver="bo", reason="   ", session=session)
    state = lifecycle.approve(version_id, approver="bo", reason="agree", session=session)
    assert state.approved and state.version.status == ModelStatus.APPROVED


def test_promoting_before_enough_approvals_says_how_many_it_has_and_needs(session) -> None:
    version_id = _version(session, tier1=True)
    lifecycle.approve(version_id, approver="ana", reason="ok", session=session)
    with pytest.raises(Conflict) as refused:
        lifecycle.promote(version_id, expected_champion_id=None, session=session, actor="a")
    assert str(refused.value) == (
        f"model version {version_id} is candidate with 1 of the 2 approvals it needs (it "
        "touches a tier-1 service: each from a different approver; so far ana); only an "
        "approved version can be promoted"
    )
    single = _version(session)
    with pytest.raises(Conflict, match="with 0 of the 1 approval it needs; only an approved"):
        lifecycle.promote(single, expected_champion_id=None, session=session, actor="a")


def test_tier1_flag_in_config_also_requires_two(session) -> None:
    version_id = _version(session, tier1=True)
    assert lifecycle.approve(version_id, approver="ana", reason="ok", session=session).required == 2


def test_forbidden_transitions_are_conflicts(session) -> None:
    version_id = _version(session)
    with pytest.raises(Conflict, match="only an approved"):
        lifecycle.promote(version_id, expected_champion_id=None, session=session, actor="a")
    for blank in ("", "  "):
        with pytest.raises(InputError, match="reason"):
            lifecycle.reject(version_id, approver="ana", reason=blank, session=session)
    lifecycle.reject(version_id, approver="ana", reason="worse on holdout", session=session)
    with pytest.raises(Conflict):
        lifecycle.approve(version_id, approver="bo", reason="ok", session=session)
    with pytest.raises(Conflict, match="cannot become"):
        lifecycle.start_shadow(version_id, session=session, actor="a")


def test_promotion_retires_the_old_champion_and_rollback_restores_it(session) -> None:
    first = _approved(session)
    lifecycle.promote(first, expected_champion_id=None, session=session, actor="a")
    second = _approved(session)
    lifecycle.promote(second, expected_champion_id=first, session=session, actor="a")
    assert store.get_version(first, session=session).status == ModelStatus.RETIRED
    assert store.champion_of(TASK, session=session).id == second
    restored = lifecycle.rollback(TASK, session=session, actor="a", reason="alert storm")
    assert restored.id == first and restored.status == ModelStatus.CHAMPION
    assert store.get_version(second, session=session).status == ModelStatus.RETIRED
    with pytest.raises(Conflict, match="nothing to roll back"):
        lifecycle.rollback(TASK, session=session, actor="a", reason="again")


def test_stale_expected_champion_fails_and_changes_nothing(session) -> None:
    first = _approved(session)
    lifecycle.promote(first, expected_champion_id=None, session=session, actor="a")
    second = _approved(session)
    with pytest.raises(Conflict, match="another promotion won"):
        lifecycle.promote(second, expected_champion_id=None, session=session, actor="a")
    assert store.get_version(second, session=session).status == ModelStatus.APPROVED
    assert store.champion_of(TASK, session=session).id == first


def test_promotion_refuses_a_tampered_artifact(session, tmp_path) -> None:
    digest = save_artifact(tmp_path / "m", {"rules": []})
    version_id = store.create_version(
        ModelVersionCreate(task=TASK, artifact_path=str(tmp_path / "m"), artifact_hash=digest),
        session=session,
        actor="t",
    ).id
    lifecycle.approve(version_id, approver="ana", reason="ok", session=session)
    (tmp_path / "m" / "config.json").write_text('{"rules": [{"evil": 1}]}')
    with pytest.raises(IntegrityError):
        lifecycle.promote(version_id, expected_champion_id=None, session=session, actor="a")


def test_a_blank_reason_is_refused_and_nothing_is_written(session) -> None:
    version_id = _version(session)
    for blank in ("", " \t "):
        with pytest.raises(InputError, match="reason"):
            lifecycle.approve(version_id, approver="ana", reason=blank, session=session)
    assert store.list_approvals(version_id, session=session) == []
    assert store.get_version(version_id, session=session).status == ModelStatus.CANDIDATE
