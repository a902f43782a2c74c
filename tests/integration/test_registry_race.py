"""Two promotions racing on SQLite and PostgreSQL: exactly one wins, the other fails cleanly."""

from __future__ import annotations

import threading

from lessonloop.domain.enums import ModelStatus, ModelTask
from lessonloop.domain.models import ModelVersionCreate
from lessonloop.errors import Conflict
from lessonloop.services import registry
from lessonloop.services.workspace import Workspace

TASK = ModelTask.METRIC_ANOMALY


def _approved(ws: Workspace) -> int:
    version = registry.register_version(ws, ModelVersionCreate(task=TASK))
    registry.approve_version(ws, version.id, reason="better on holdout", approver="ana")
    return version.id


def _race(workspace: Workspace, version_ids: list[int], expected: int | None) -> list[object]:
    barrier = threading.Barrier(len(version_ids))
    outcomes: list[object] = [None] * len(version_ids)

    def run(index: int) -> None:
        ws = Workspace(workspace.settings, actor=f"user{index}")
        try:
            registry.list_versions(ws, task=TASK)  # connect before the start line
            barrier.wait()
            outcomes[index] = registry.promote_version(
                ws, version_ids[index], expected_champion_id=expected
            )
        except Conflict as exc:
            outcomes[index] = exc
        finally:
            ws.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(version_ids))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def _champions(ws: Workspace) -> list[int]:
    return [v.id for v in registry.list_versions(ws, task=TASK, status=ModelStatus.CHAMPION)]


def test_two_candidates_racing_for_an_empty_throne(workspace: Workspace) -> None:
    first, second = _approved(workspace), _approved(workspace)
    outcomes = _race(workspace, [first, second], expected=None)
    winners = [o for o in outcomes if not isinstance(o, Conflict)]
    assert len(winners) == 1
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1
    assert _champions(workspace) == [winners[0].id]  # type: ignore[union-attr]
    loser = second if winners[0].id == first else first  # type: ignore[union-attr]
    assert registry.show_version(workspace, loser).version.status == ModelStatus.APPROVED


def test_two_candidates_racing_to_replace_a_champion(workspace: Workspace) -> None:
    incumbent = _approved(workspace)
    registry.promote_version(workspace, incumbent)
    first, second = _approved(workspace), _approved(workspace)
    outcomes = _race(workspace, [first, second], expected=incumbent)
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1
    champions = _champions(workspace)
    assert len(champions) == 1 and champions[0] in (first, second)
    assert registry.show_version(workspace, incumbent).version.status == ModelStatus.RETIRED


def test_the_same_version_promoted_twice_at_once(workspace: Workspace) -> None:
    version_id = _approved(workspace)
    outcomes = _race(workspace, [version_id, version_id], expected=None)
    assert sum(isinstance(o, Conflict) for o in outcomes) == 1
    assert _champions(workspace) == [version_id]
