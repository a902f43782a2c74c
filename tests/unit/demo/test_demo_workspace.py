"""The demo replaces only a workspace it created, and always runs on SQLite in its folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from lessonloop.domain import ServiceCreate
from lessonloop.errors import Conflict
from lessonloop.services import catalog
from lessonloop.services.demo_workspace import MARKER, open_demo_workspace
from lessonloop.services.workspace import init_workspace
from lessonloop.settings import Settings


def _services(home: Path) -> list[str]:
    ws = init_workspace(Settings(home=home))
    try:
        return [s.name for s in catalog.list_services(ws)]
    finally:
        ws.close()


def test_a_workspace_the_demo_did_not_create_is_left_alone(tmp_path: Path) -> None:
    real = init_workspace(Settings(home=tmp_path / "real"), actor="ops")
    catalog.add_service(real, ServiceCreate(name="payments"))
    real.close()
    with pytest.raises(Conflict, match="did not create"):
        open_demo_workspace(Settings(home=tmp_path / "real"), None)
    assert _services(tmp_path / "real") == ["payments"]


def test_an_earlier_demo_workspace_is_replaced(tmp_path: Path) -> None:
    first = open_demo_workspace(Settings(home=tmp_path / "elsewhere"), tmp_path / "demo")
    catalog.add_service(first, ServiceCreate(name="from-the-first-run"))
    first.close()
    assert (tmp_path / "demo" / MARKER).exists()
    second = open_demo_workspace(Settings(home=tmp_path / "elsewhere"), tmp_path / "demo")
    try:
        assert catalog.list_services(second) == []
    finally:
        second.close()


def test_a_demo_workspace_from_before_markers_is_recognised(tmp_path: Path) -> None:
    init_workspace(Settings(home=tmp_path / "old")).close()
    (tmp_path / "old" / "sources").mkdir()
    (tmp_path / "old" / "sources" / "truth.json").write_text("{}")
    open_demo_workspace(Settings(home=tmp_path / "old"), None).close()
    assert (tmp_path / "old" / MARKER).exists()


def test_the_demo_ignores_a_configured_database(tmp_path: Path) -> None:
    configured = Settings(home=tmp_path / "h", database_url="postgresql+psycopg://u@127.0.0.1:1/x")
    ws = open_demo_workspace(configured, tmp_path / "demo")
    try:
        assert ws.dialect == "sqlite"
        assert (tmp_path / "demo" / "lessonloop.db").exists()
    finally:
        ws.close()


def test_run_demo_from_python_acts_as_its_people_and_keeps_the_caller_admin(
    tmp_path: Path,
) -> None:
    from lessonloop import run_demo
    from lessonloop.domain.access import Role
    from lessonloop.services import access, audit_trail

    ws = init_workspace(Settings(home=tmp_path / "ws"), actor="alice")
    try:
        result = run_demo(ws, tmp_path / "sources", quarters=2, step_minutes=60)
        assert result.report["quarters"] and ws.actor == "alice"
        roles = {(g.person, g.role) for g in access.list_roles(ws).grants}
        assert ("alice", Role.ADMIN) in roles and ("demo", Role.DATA_SCIENTIST) in roles
        assert audit_trail.audit_trail(ws, action="service.create", limit=1)[0].actor == "demo"
        catalog.add_service(ws, ServiceCreate(name="after-the-demo"))  # alice may go on
    finally:
        ws.close()
