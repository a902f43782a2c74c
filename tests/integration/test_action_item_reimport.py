"""Re-importing a review keeps each action item's id with its title and never undoes progress."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from tests.factories import review_file_text, seed_checkout_incident

from lessonloop.domain.actions import ActionItemRead, ActionItemUpdate
from lessonloop.domain.enums import ActionStatus
from lessonloop.errors import InputError
from lessonloop.services import actions as action_service
from lessonloop.services import reviews as review_service

AS_OF = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
PAGE = "| Page on p99 latency | detect | ana | 2026-04-01 | P2 | open | mttd down checkout |"
CANARY = "| Add canary stage | prevent | ben | 2026-03-20 | P1 | open | |"
DOCS = "| Document the rollback | process | ana | 2026-04-10 | P3 | open | |"


def _text(rows: list[str], summary: str = "Checkout was slow.") -> str:
    return review_file_text(summary=summary, actions="\n".join(rows))


@pytest.fixture
def seeded(workspace):
    seed_checkout_incident(workspace)
    return workspace


def _import(ws, path: Path, text: str) -> dict[str, ActionItemRead]:
    """Import the text; the review's action items by title."""
    path.write_text(text)
    review, _ = review_service.import_review(ws, path, as_of=AS_OF)
    return {item.title: item for item in review.action_items}


def _items(ws) -> dict[str, ActionItemRead]:
    return {item.title: item for item in action_service.list_action_items(ws)}


@pytest.fixture
def progressed(seeded, tmp_path):
    """Imported, then progress recorded through the CLI's service: page in progress, canary done."""
    path = tmp_path / "INC-7.md"
    first = _import(seeded, path, _text([PAGE, CANARY]))
    page, canary = first["Page on p99 latency"].id, first["Add canary stage"].id
    action_service.update_action_item(
        seeded,
        page,
        ActionItemUpdate(status=ActionStatus.IN_PROGRESS, owner="zed", due=dt.date(2026, 5, 5)),
    )
    action_service.update_action_item(seeded, canary, ActionItemUpdate(status=ActionStatus.DONE))
    return seeded, path, first, _items(seeded)


def test_editing_elsewhere_keeps_progress_owner_and_due(progressed) -> None:
    ws, path, _, before = progressed
    after = _import(ws, path, _text([PAGE, CANARY], summary="Checkout was very slow."))
    page = after["Page on p99 latency"]
    assert (page.status, page.owner, page.due) == (
        ActionStatus.IN_PROGRESS,
        "zed",
        dt.date(2026, 5, 5),
    )
    assert after["Add canary stage"].status == ActionStatus.DONE
    assert after["Add canary stage"].completed_at == before["Add canary stage"].completed_at


def test_swapped_rows_keep_ids_and_progress_with_their_titles(progressed) -> None:
    ws, path, first, before = progressed
    after = _import(ws, path, _text([CANARY, PAGE], summary="Swapped."))
    assert {t: i.id for t, i in after.items()} == {t: i.id for t, i in first.items()}
    assert [i.title for i in sorted(after.values(), key=lambda i: i.position)] == [
        "Add canary stage",
        "Page on p99 latency",
    ]
    canary, page = after["Add canary stage"], after["Page on p99 latency"]
    assert canary.status == ActionStatus.DONE
    assert canary.completed_at == before["Add canary stage"].completed_at
    assert (page.status, page.owner, page.completed_at) == (ActionStatus.IN_PROGRESS, "zed", None)


def test_a_field_the_file_changes_wins_the_others_stay(progressed) -> None:
    ws, path, first, _ = progressed
    edited = PAGE.replace("2026-04-01", "2026-06-01")
    after = _import(ws, path, _text([edited, CANARY.replace("| open |", "| wont do |")]))
    page, canary = after["Page on p99 latency"], after["Add canary stage"]
    assert (page.due, page.owner, page.status) == (
        dt.date(2026, 6, 1),
        "zed",
        ActionStatus.IN_PROGRESS,
    )
    assert (canary.status, canary.completed_at) == (ActionStatus.WONT_DO, None)
    assert canary.id == first["Add canary stage"].id


def test_title_case_and_spacing_do_not_matter(progressed) -> None:
    ws, path, first, _ = progressed
    retitled = CANARY.replace("Add canary stage", "add  CANARY Stage").replace("P1", "P2")
    after = _import(ws, path, _text([retitled, PAGE]))
    (canary,) = (i for t, i in after.items() if t.lower().startswith("add"))
    assert canary.id == first["Add canary stage"].id and canary.status == ActionStatus.DONE
    assert canary.priority.value == "P2" and len(after) == 2


def test_renamed_row_with_other_columns_unchanged_keeps_its_item(progressed) -> None:
    ws, path, first, _ = progressed
    renamed = PAGE.replace("Page on p99 latency", "Page us on p99 latency")
    after = _import(ws, path, _text([CANARY, renamed]))
    page = after["Page us on p99 latency"]
    assert page.id == first["Page on p99 latency"].id
    assert (page.status, page.owner) == (ActionStatus.IN_PROGRESS, "zed")
    assert len(after) == 2


def test_added_row_is_a_new_item(progressed) -> None:
    ws, path, first, _ = progressed
    after = _import(ws, path, _text([DOCS, PAGE, CANARY]))
    assert after["Page on p99 latency"].id == first["Page on p99 latency"].id
    assert after["Add canary stage"].id == first["Add canary stage"].id
    assert after["Document the rollback"].id not in {i.id for i in first.values()}
    assert after["Document the rollback"].status == ActionStatus.OPEN


def test_removed_rows_go_unless_they_carry_progress(progressed) -> None:
    ws, path, first, _ = progressed
    _import(ws, path, _text([PAGE, CANARY, DOCS]))
    after = _import(ws, path, _text([CANARY]))
    assert [i.title for i in sorted(after.values(), key=lambda i: i.position)] == [
        "Add canary stage",
        "Page on p99 latency",
    ]
    assert after["Page on p99 latency"].id == first["Page on p99 latency"].id
    assert after["Page on p99 latency"].status == ActionStatus.IN_PROGRESS
    assert set(_items(ws)) == {"Add canary stage", "Page on p99 latency"}


def _rows(ws, path: Path, text: str) -> list[tuple[int, str, str | None, ActionStatus]]:
    """Import the text; the review's items as (id, title, owner, status), in file order."""
    path.write_text(text)
    review, _ = review_service.import_review(ws, path, as_of=AS_OF)
    return [(i.id, i.title, i.owner, i.status) for i in review.action_items]


def test_two_rows_with_one_title_keep_their_own_items(seeded, tmp_path) -> None:
    path = tmp_path / "INC-7.md"
    alice = "| Fix X | process | alice | 2026-04-01 | P2 | open | |"
    bob = "| Fix X | process | bob | 2026-04-01 | P2 | open | |"
    (first, _, _, _), (second, _, _, _) = _rows(seeded, path, _text([alice, bob]))
    action_service.update_action_item(seeded, first, ActionItemUpdate(status=ActionStatus.DONE))
    swapped = _rows(seeded, path, _text([bob, alice]))
    assert swapped == [
        (second, "Fix X", "bob", ActionStatus.OPEN),
        (first, "Fix X", "alice", ActionStatus.DONE),
    ]


def test_renaming_onto_another_items_title_keeps_both_identities(seeded, tmp_path) -> None:
    path = tmp_path / "INC-7.md"
    alpha = "| Alpha | process | alice | 2026-04-01 | P2 | open | |"
    beta = "| Beta | process | bob | 2026-04-01 | P2 | open | |"
    (a, _, _, _), (b, _, _, _) = _rows(seeded, path, _text([alpha, beta]))
    action_service.update_action_item(
        seeded, b, ActionItemUpdate(status=ActionStatus.IN_PROGRESS)
    )
    renamed = _rows(seeded, path, _text([alpha.replace("Alpha", "Beta"), beta]))
    assert renamed == [
        (a, "Beta", "alice", ActionStatus.OPEN),
        (b, "Beta", "bob", ActionStatus.IN_PROGRESS),
    ]


def test_an_item_kept_after_its_row_went_is_not_renamed_into(seeded, tmp_path) -> None:
    path = tmp_path / "INC-7.md"
    alpha = "| Alpha | process | ana | 2026-04-01 | P2 | open | |"
    beta = "| Beta | process | ben | 2026-04-10 | P3 | open | |"
    (a, _, _, _), _ = _rows(seeded, path, _text([alpha, beta]))
    action_service.update_action_item(seeded, a, ActionItemUpdate(status=ActionStatus.DONE))
    _rows(seeded, path, _text([beta]))  # Alpha's row goes; it stays for its progress
    gamma = alpha.replace("Alpha", "Gamma")  # every other column as Alpha's was
    rows = _rows(seeded, path, _text([beta, gamma]))
    by_title = {title: (item_id, status) for item_id, title, _, status in rows}
    assert by_title["Gamma"][0] != a and by_title["Gamma"][1] == ActionStatus.OPEN
    assert by_title["Alpha"] == (a, ActionStatus.DONE)


def test_an_owner_on_the_roster_is_found_by_name(seeded, tmp_path: Path) -> None:
    """Ana is an author, so her name is stored as a person token; listing by her name finds
    her items, and only hers."""
    path = tmp_path / "review.md"
    path.write_text(
        review_file_text(front="authors: [ana]\n", actions="\n".join([PAGE, CANARY, DOCS]))
    )
    review, _ = review_service.import_review(seeded, path, as_of=AS_OF)
    stored = {item.title: item.owner for item in review.action_items}
    assert stored["Page on p99 latency"].startswith("<person:")  # redacted on the way in
    assert stored["Add canary stage"] == "ben"  # not on the roster
    found = action_service.list_action_items(seeded, owner="ana")
    assert sorted(i.title for i in found) == ["Document the rollback", "Page on p99 latency"]
    assert [i.title for i in action_service.list_action_items(seeded, owner="ben")] == [
        "Add canary stage"
    ]
    assert action_service.list_action_items(seeded, owner="carla") == []


def test_an_item_links_to_the_recommendation_it_implements_and_keeps_the_link(seeded, tmp_path):
    path = tmp_path / "INC-7.md"
    text = _text([PAGE, CANARY]).replace(
        "\n## Action items", "\n## Recommendations\n- [tooling] Page on p99.\n\n## Action items"
    )
    items = _import(seeded, path, text)
    page = items["Page on p99 latency"].id
    with pytest.raises(InputError, match="is an observation"):
        action_service.update_action_item(seeded, page, ActionItemUpdate(insight_position=0))
    with pytest.raises(InputError, match="does not exist"):
        action_service.update_action_item(seeded, page, ActionItemUpdate(insight_position=5))
    linked = action_service.update_action_item(seeded, page, ActionItemUpdate(insight_position=1))
    assert linked.insight_position == 1
    again = _import(seeded, path, text.replace("Checkout was slow.", "Checkout was very slow."))
    assert again["Page on p99 latency"].insight_position == 1
