"""The demo organisation's programme: its calendar follows from the seed, and its steps run
through the services at their simulated times."""

from __future__ import annotations

import datetime as dt

import pytest
from tests.factories import review_file_text, seed_checkout_incident

from lessonloop.domain.enums import ActionStatus, ReviewStatus
from lessonloop.services import reviews
from lessonloop.services.demo_programme import FACILITATOR, Programme, implementing
from lessonloop.services.demo_workspace import DEMO_ROLES, acting, staff

UTC = dt.UTC
WRITTEN = dt.datetime(2026, 3, 4, 9, tzinfo=UTC)
END = dt.datetime(2026, 6, 1, tzinfo=UTC)
ROWS = "\n".join(
    [
        "| Page on p99 latency band | detect | ana | 2026-04-01 | P2 | open | mttd down checkout |",
        "| Add canary stage | prevent | ben | 2026-03-20 | P1 | open | |",
    ]
)
RECOMMENDATION = (
    "\n\n## Recommendations\n- [tooling] Page on the p99 latency band, not a threshold."
)


@pytest.fixture
def review(workspace, tmp_path):
    staff(workspace, None)
    seed_checkout_incident(workspace)
    path = tmp_path / "INC-7.md"
    text = review_file_text(actions=ROWS, front="written_at: 2026-03-04T09:00:00Z\n")
    path.write_text(text.replace("\n## Action items", RECOMMENDATION + "\n\n## Action items"))
    with acting(workspace, "demo"):
        return reviews.import_review(workspace, path, now=WRITTEN)[0]


def _calendar(workspace, review, seed: int) -> list[tuple[dt.datetime, str]]:
    programme = Programme(workspace, seed, END)
    programme.review_imported(review, WRITTEN, WRITTEN - dt.timedelta(days=2))
    return sorted((step.at, step.actor) for step in programme._steps)


def test_the_calendar_follows_from_the_seed(workspace, review) -> None:
    first = _calendar(workspace, review, seed=7)
    assert first == _calendar(workspace, review, seed=7)
    assert first != _calendar(workspace, review, seed=8)
    assert all(at > WRITTEN for at, _ in first)


def test_steps_run_in_time_order_as_their_people_until_the_end(workspace, review) -> None:
    assert ("demo-facilitator", "reviewer") in [(n, r.value) for n, r in DEMO_ROLES]
    for seed in range(40):  # a seed whose review goes all the way
        programme = Programme(workspace, seed, END)
        programme.review_imported(review, WRITTEN, WRITTEN - dt.timedelta(days=2))
        if len([s for s in programme._steps if s.actor == FACILITATOR]) >= 3:  # and a rating
            break
    programme.run_until(END)
    done = reviews.get_review(workspace, "INC-7")
    assert done.status == ReviewStatus.PUBLISHED and done.status_changed_by == FACILITATOR
    assert WRITTEN < done.published_at < END
    assert FACILITATOR in {i.rubric.rated_by for i in done.insights}
    page = done.action_items[0]
    assert page.insight_position == done.insights[-1].position
    if page.status == ActionStatus.DONE:
        assert page.shipped_at == page.completed_at and page.completed_at < END


def test_an_item_links_to_the_recommendation_it_shares_words_with(review) -> None:
    links = implementing(review)
    assert links == [(review.action_items[0].id, review.insights[-1].position)]
