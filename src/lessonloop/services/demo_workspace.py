"""The demo's workspace: a folder the demo owns (replaced on each run, never someone's real
workspace) and the people who work in it, with their roles."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lessonloop.domain.access import Role, person_key
from lessonloop.errors import Conflict
from lessonloop.services import access
from lessonloop.services.workspace import Workspace, init_workspace
from lessonloop.settings import Settings

__all__ = ["DEMO_ROLES", "MARKER", "acting", "open_demo_workspace", "staff"]

MARKER = ".lessonloop-demo"  # written in a workspace folder the demo created
DEMO_ROLES = (
    ("demo", Role.REVIEWER),  # imports, reviews and decides signals ...
    ("demo", Role.DATA_SCIENTIST),  # ... and trains; it cannot approve its own models
    ("demo-facilitator", Role.REVIEWER),  # approves and publishes reviews, rates insights
    ("demo-sre-lead", Role.APPROVER),
    ("demo-service-owner", Role.APPROVER),
    ("demo-approver", Role.APPROVER),
)


def _made_by_the_demo(home: Path) -> bool:
    """A marker, or the generated organisation of a run from before markers existed."""
    return (home / MARKER).exists() or (home / "sources" / "truth.json").exists()


def open_demo_workspace(base: Settings, workspace_dir: Path | None) -> Workspace:
    """A fresh SQLite workspace in `workspace_dir` (default: the configured home), replacing
    an earlier demo's; a workspace the demo did not create is refused, never replaced."""
    home = (workspace_dir or base.home).resolve()
    database = home / "lessonloop.db"
    if database.exists() and not _made_by_the_demo(home):
        raise Conflict(
            f"{home} holds a workspace that 'lessonloop demo' did not create; the demo replaces "
            "its workspace on every run, so it leaves this one alone: pass --workspace DIR "
            "(e.g. .lessonloop-demo)"
        )
    for suffix in ("", "-wal", "-shm"):
        (home / f"lessonloop.db{suffix}").unlink(missing_ok=True)
    ws = init_workspace(base.model_copy(update={"home": home, "database_url": None}), actor="demo")
    (home / MARKER).write_text("created by 'lessonloop demo'; replaced on its next run\n")
    return ws


@contextmanager
def acting(ws: Workspace, name: str) -> Iterator[None]:
    """Act as `name` for a step (the demo plays several people on one workspace)."""
    actor, ws.actor = ws.actor, name
    try:
        yield
    finally:
        ws.actor = actor


def staff(ws: Workspace, owner: str | None, *, now: dt.datetime | None = None) -> None:
    """Turn roles on as a team would: an admin, then each person's roles, and admin for
    `owner` (who ran the demo and explores its workspace afterwards), all at `now` (default:
    the time of the run). A workspace that already has roles keeps them."""
    if access.list_roles(ws).enforced:
        return
    with acting(ws, "demo-admin"):
        access.grant_role(ws, "demo-admin", Role.ADMIN, reason="runs the demo programme", now=now)
        for name, role in DEMO_ROLES:
            access.grant_role(ws, name, role, reason="demo organisation", now=now)
        cast = {"demo-admin", *(person_key(name) for name, _ in DEMO_ROLES)}
        if owner and person_key(owner) not in cast:
            access.grant_role(ws, owner, Role.ADMIN, reason="ran the demo", now=now)
