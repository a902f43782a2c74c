"""Roles guard every change once granted; the audit trail shows who changed what (both engines)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from tests.factories import invoke_cli, populate, propose_failure_mode

from lessonloop.domain import ServiceCreate
from lessonloop.domain.access import Role
from lessonloop.domain.enums import ModelTask, ReviewStatus
from lessonloop.domain.models import ModelVersionCreate
from lessonloop.errors import Conflict, InputError, NotFound, PermissionDenied
from lessonloop.services import (
    access,
    audit_trail,
    catalog,
    portability,
    registry,
    reviews,
    signals,
)
from lessonloop.services.workspace import init_workspace
from lessonloop.settings import Settings


def _as(ws, name: str):
    ws.actor = name
    return ws


def _staff(ws) -> None:
    """alice admin; bob responder; rita reviewer; dan data scientist; ava approver."""
    _as(ws, "alice")
    access.grant_role(ws, "Alice", Role.ADMIN, reason="first admin")
    for name, role in [
        ("bob", Role.RESPONDER),
        ("rita", Role.REVIEWER),
        ("dan", Role.DATA_SCIENTIST),
        ("ava", Role.APPROVER),
    ]:
        access.grant_role(ws, name, role)


def test_a_workspace_without_grants_is_open(workspace) -> None:
    _as(workspace, "anyone")
    catalog.add_service(workspace, ServiceCreate(name="db"))
    assert access.list_roles(workspace).enforced is False


def test_the_first_grant_must_be_an_admin_and_after_it_only_admins_grant(workspace) -> None:
    _as(workspace, "bob")
    with pytest.raises(NotFound, match="nothing to revoke"):
        access.revoke_role(workspace, "bob", Role.ADMIN)
    with pytest.raises(InputError, match="at most 120"):
        access.grant_role(workspace, "x" * 121, Role.ADMIN)
    with pytest.raises(InputError, match="first role granted must be admin"):
        access.grant_role(workspace, "bob", Role.REVIEWER)
    access.grant_role(workspace, "alice", Role.ADMIN)  # bootstrapping: anyone names the admin
    with pytest.raises(PermissionDenied, match="only an admin"):
        access.grant_role(workspace, "bob", Role.ADMIN)
    _as(workspace, " ALICE ")  # names match whatever their case and spacing
    access.grant_role(workspace, "bob", Role.RESPONDER)
    with pytest.raises(Conflict, match="already holds"):
        access.grant_role(workspace, "Bob", Role.RESPONDER)
    overview = access.list_roles(workspace)
    assert overview.enforced
    assert [(g.person, g.role) for g in overview.grants] == [
        ("alice", Role.ADMIN),
        ("bob", Role.RESPONDER),
    ]


def test_each_role_may_do_its_part_and_nothing_else(workspace) -> None:
    with workspace.transaction() as session:
        keys = populate(session, 2)
        signal_id = propose_failure_mode(session, keys[0], "bad_deploy")
    _staff(workspace)

    _as(workspace, "bob")  # responder: contributes, decides nothing
    catalog.add_service(workspace, ServiceCreate(name="search"))
    reviews.advance_review(workspace, keys[0], ReviewStatus.IN_REVIEW)
    with pytest.raises(PermissionDenied, match="bob may not accept signals"):
        signals.accept_signal(workspace, signal_id)
    with pytest.raises(PermissionDenied, match="approver, admin"):
        registry.promote_version(workspace, 1)
    with pytest.raises(PermissionDenied, match="move reviews to approved"):
        reviews.advance_review(workspace, keys[0], ReviewStatus.APPROVED)

    _as(workspace, "rita")  # reviewer
    reviews.advance_review(workspace, keys[0], ReviewStatus.APPROVED)
    signals.accept_signal(workspace, signal_id)
    with pytest.raises(PermissionDenied, match="register model versions"):
        registry.register_version(workspace, ModelVersionCreate(task=ModelTask.PRECEDENT))

    _as(workspace, "dan")  # data scientist: trains, cannot approve
    version = registry.register_version(workspace, ModelVersionCreate(task=ModelTask.PRECEDENT))
    with pytest.raises(PermissionDenied, match="dan may not approve model versions"):
        registry.approve_version(workspace, version.id, reason="looks good")

    _as(workspace, "ava")  # approver: approves and promotes, imports nothing
    registry.approve_version(workspace, version.id, reason="precision up")
    assert registry.promote_version(workspace, version.id).status.value == "champion"
    with pytest.raises(PermissionDenied, match="add services"):
        catalog.add_service(workspace, ServiceCreate(name="ledger"))

    _as(workspace, "mallory")  # nobody: reads, changes nothing
    assert len(catalog.list_incidents(workspace)) == 2
    with pytest.raises(PermissionDenied, match="holds no role"):
        catalog.add_service(workspace, ServiceCreate(name="ledger"))


def test_the_last_admin_cannot_be_revoked_and_revocations_are_audited(workspace) -> None:
    _staff(workspace)
    with pytest.raises(Conflict, match="last admin"):
        access.revoke_role(workspace, "alice", Role.ADMIN)
    with pytest.raises(NotFound, match="does not hold"):
        access.revoke_role(workspace, "bob", Role.APPROVER)
    access.grant_role(workspace, "carol", Role.ADMIN)
    access.revoke_role(workspace, "alice", Role.ADMIN, reason="left the team")
    _as(workspace, "alice")
    with pytest.raises(PermissionDenied, match="only an admin"):
        access.revoke_role(workspace, "carol", Role.ADMIN)
    assert len(audit_trail.audit_trail(workspace, entity="person: Carol ")) == 1  # as listed
    events = audit_trail.audit_trail(workspace, action="role.revoke")
    assert [(e.actor, e.entity_id, e.details) for e in events] == [
        ("alice", "alice", {"role": "admin", "reason": "left the team"})
    ]


def test_audit_trail_filters(workspace) -> None:
    _as(workspace, "Bob")
    catalog.add_service(workspace, ServiceCreate(name="db"))
    _as(workspace, "carol")
    catalog.add_service(workspace, ServiceCreate(name="cache"))
    catalog.add_dependency(workspace, "cache", "db")
    by_bob = audit_trail.audit_trail(workspace, actor="bob")
    assert [(e.action, e.entity_id) for e in by_bob] == [("service.create", "db")]
    on_cache = audit_trail.audit_trail(workspace, entity="service:cache")
    assert {e.actor for e in on_cache} == {"carol"} and len(on_cache) >= 1
    assert len(audit_trail.audit_trail(workspace, entity="service")) == len(
        audit_trail.audit_trail(workspace, action="service.")
    )
    newest = audit_trail.audit_trail(workspace, limit=1)
    assert newest[0].id == max(e.id for e in audit_trail.audit_trail(workspace))
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    assert audit_trail.audit_trail(workspace, since=future) == []
    assert len(audit_trail.audit_trail(workspace, until=future)) == len(
        audit_trail.audit_trail(workspace)
    )
    assert audit_trail.audit_trail(workspace, action="service_") == []  # '_' is no wildcard
    assert audit_trail.audit_trail(workspace, action="SERVICE.") == []  # exact on both engines
    assert audit_trail.audit_trail(workspace, entity=" Service : cache ") == on_cache
    _as(workspace, "  ÄGIR  Åse ")  # any script, any spacing
    catalog.add_service(workspace, ServiceCreate(name="ledger"))
    for spelling in ("ägir åse", "ÄGIR ÅSE", "  Ägir   Åse"):
        found = audit_trail.audit_trail(workspace, actor=spelling)
        assert [e.entity_id for e in found] == ["ledger"], spelling
    with pytest.raises(InputError, match="unknown entity type 'reveiw'"):
        audit_trail.audit_trail(workspace, entity="reveiw")
    assert audit_trail.audit_trail(workspace, entity="insight") == []  # known, no events yet
    with pytest.raises(InputError, match="between 1 and"):
        audit_trail.audit_trail(workspace, limit=0)
    with pytest.raises(InputError, match="--until must be after --since"):
        audit_trail.audit_trail(workspace, since=future, until=future)


def test_grants_travel_in_a_workspace_export(workspace, tmp_path) -> None:
    _staff(workspace)
    out = tmp_path / "ws.jsonl"
    portability.export_workspace(workspace, out)
    fresh = init_workspace(Settings(home=tmp_path / "fresh"), actor="restorer")
    try:
        portability.import_workspace(fresh, out)
        grants = {(g.person, g.role) for g in access.list_roles(fresh).grants}
        assert ("ava", Role.APPROVER) in grants and ("Alice", Role.ADMIN) in grants
        with pytest.raises(PermissionDenied, match="restorer may not add services"):
            catalog.add_service(fresh, ServiceCreate(name="x"))
    finally:
        fresh.close()


def _cli(workspace, *args: str, actor: str):
    return invoke_cli(workspace, *args, actor=actor)


def test_roles_and_audit_from_the_command_line(workspace) -> None:
    first = _cli(workspace, "roles", "grant", "alice", "admin", actor="root")
    assert first.exit_code == 0 and "roles are now in force" in first.output
    assert "root holds no role" in first.output  # the one who turned roles on is warned
    wrong = _cli(workspace, "roles", "grant", "bob", "superuser", actor="alice")
    assert wrong.exit_code == 2 and "unknown role 'superuser'" in wrong.output
    assert _cli(workspace, "roles", "grant", "bob", "responder", actor="alice").exit_code == 0
    denied = _cli(workspace, "taxonomy", "add", "failure_mode", "x", actor="bob")
    assert denied.exit_code == 6
    assert "bob may not edit taxonomies" in denied.output
    listed = json.loads(_cli(workspace, "roles", "list", "--json", actor="bob").output)
    assert listed["enforced"] is True
    assert [(g["person"], g["role"]) for g in listed["grants"]] == [
        ("alice", "admin"),
        ("bob", "responder"),
    ]
    trail = _cli(workspace, "audit", "--action", "role.", "--by", "ALICE", "--json", actor="x")
    assert [e["details"]["role"] for e in json.loads(trail.output)] == ["responder"]
    review = workspace.settings.home / "r.md"
    review.write_text("not a review")
    refused = _cli(workspace, "review", "import", str(review), str(review), actor="mallory")
    assert refused.exit_code == 6 and refused.output.count("may not import reviews") == 1
    bad = _cli(workspace, "audit", "--since", "yesterday", actor="x")
    assert bad.exit_code == 2 and "--since" in bad.output


def test_taxonomy_edits_are_audited(workspace) -> None:
    from lessonloop.services import knowledge

    knowledge.add_taxonomy_term(workspace, "failure_mode", "disk_full", keywords=("disk",))
    knowledge.remove_taxonomy_term(workspace, "failure_mode", "disk_full")
    events = audit_trail.audit_trail(workspace, entity="taxonomy")
    assert [(e.action, e.entity_id, e.actor) for e in events] == [
        ("taxonomy.remove", "failure_mode:disk_full", "tester"),
        ("taxonomy.add", "failure_mode:disk_full", "tester"),
    ]


def test_a_blank_actor_is_the_os_user_and_spaces_collapse(tmp_path) -> None:
    import getpass

    for given, expected in (("   ", getpass.getuser()), ("  Rev2   Person ", "Rev2 Person")):
        ws = init_workspace(Settings(home=tmp_path / "h", actor=given))
        try:
            assert ws.actor == expected
        finally:
            ws.close()
        assert Settings(home=tmp_path, actor=given).resolved_actor == expected
