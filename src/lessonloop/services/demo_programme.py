"""The demo organisation's learning programme: its people write reviews, submit, approve and
publish them, decide signal proposals, rate insights and close action items, each at a
simulated time in the generated year.

Every step is the service a person's command runs (review import, ``review advance``,
``signals accept`` / ``reject``, ``insights rate``, ``actions update``, ``outcomes check``)
given the simulated time as ``now``, so the rows and the audit trail tell the organisation's
story, not the time of the run. The times come from their own random stream (``seed``): the
loop's other draws, and so its detection figures, do not change with them.
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from lessonloop.domain.actions import ActionItemRead, ActionItemUpdate
from lessonloop.domain.enums import ActionStatus, ActionType, InsightKind, ReviewStatus
from lessonloop.domain.reviews import ReviewRead
from lessonloop.domain.signals import SignalRead
from lessonloop.errors import InputError
from lessonloop.services import actions, insights, outcomes, reviews
from lessonloop.services.demo_workspace import acting
from lessonloop.services.workspace import Workspace

__all__ = ["AUTHOR", "FACILITATOR", "Programme"]

AUTHOR = "demo"  # writes and submits reviews, closes action items, decides signals
FACILITATOR = "demo-facilitator"  # approves and publishes reviews, rates insights
DAY, HOUR = dt.timedelta(days=1), dt.timedelta(hours=1)
# How far reviews get: the rest go all the way to published (unless the period ends first).
STAYS_DRAFT, STAYS_IN_REVIEW, STAYS_APPROVED = 0.08, 0.14, 0.18
RATED_SHARE = 0.6  # of a signed-off review's insights, rated by the facilitator
WONT_DO, DONE = 0.07, 0.8  # an open item: won't do, done (cumulative); else left open


@dataclass(order=True)
class _Step:
    at: dt.datetime
    order: int
    actor: str = field(compare=False)
    run: Callable[[dt.datetime], object] = field(compare=False)


class Programme:
    """The programme's people and their calendar; steps run in time order up to a moment."""

    def __init__(self, ws: Workspace, seed: int, end: dt.datetime) -> None:
        self.ws = ws
        self.end = end  # the end of the simulated period: nothing happens after it
        self.rng = random.Random(f"lessonloop demo programme {seed}")
        self._steps: list[_Step] = []

    def _at(self, at: dt.datetime, actor: str, run: Callable[[dt.datetime], object]) -> None:
        heapq.heappush(self._steps, _Step(at.replace(microsecond=0), len(self._steps), actor, run))

    def import_time(self, written_at: dt.datetime | None, fallback: dt.datetime) -> dt.datetime:
        """When the author imports a review: within hours of writing it."""
        return (written_at or fallback) + self.rng.uniform(0.2, 6) * HOUR

    def decision_time(self, proposal: SignalRead, cut: dt.datetime) -> dt.datetime:
        """When a reviewer decides a proposal: hours to days after it, before the quarter's
        signal set is cut (the loop decides every proposal of the quarter then)."""
        wait = min(self.rng.lognormvariate(math.log(20), 1.0), 14 * 24) * HOUR
        return max(
            min(proposal.created_at + wait, cut - 60 * dt.timedelta(seconds=1)), proposal.created_at
        )

    def review_imported(self, review: ReviewRead, at: dt.datetime, ended: dt.datetime) -> None:
        """Plan what happens to a review imported at `at` about an incident that ended at
        `ended`: its way to publication, the ratings of its insights, and its action items."""
        key = review.incident_key
        fate = self.rng.random()
        submitted = at + self.rng.uniform(1, 6) * DAY
        approved = submitted + self.rng.uniform(2, 12) * DAY
        published = approved + self.rng.uniform(0.5, 4) * DAY
        if fate >= STAYS_DRAFT:
            for item_id, position in implementing(review):
                link = ActionItemUpdate(insight_position=position)
                self._update(item_id, link, submitted - self.rng.uniform(1, 20) * HOUR)
            self._advance(key, submitted, AUTHOR, ReviewStatus.IN_REVIEW)
        if fate >= STAYS_IN_REVIEW:
            self._advance(key, approved, FACILITATOR, ReviewStatus.APPROVED)
            for insight in review.insights:
                if self.rng.random() < RATED_SHARE:
                    relevance = self.rng.choice((0.5, 0.75, 0.75, 1.0, 1.0))
                    when = approved - self.rng.uniform(1, 20) * HOUR
                    self._rate(insight.id, relevance, _timeliness(at, ended), when)
        if fate >= STAYS_APPROVED:
            self._advance(key, published, FACILITATOR, ReviewStatus.PUBLISHED)
        for item in review.action_items:
            self._plan_item(item, at)

    def _advance(self, key: str, at: dt.datetime, actor: str, target: ReviewStatus) -> None:
        self._at(at, actor, lambda now: reviews.advance_review(self.ws, key, target, now=now))

    def _rate(self, insight_id: int, relevance: float, timeliness: float, at: dt.datetime) -> None:
        def rate(now: dt.datetime) -> None:
            insights.rate_insight(
                self.ws,
                insight_id,
                relevance=relevance,
                timeliness=timeliness,
                accept_suggested=True,
                note="demo facilitator: relevance and timeliness judged, the others as suggested",
                now=now,
            )

        self._at(at, FACILITATOR, rate)

    def _plan_item(self, item: ActionItemRead, imported: dt.datetime) -> None:
        """Open items are mostly done around their due date (some late), a few are dropped
        and some never closed; a detect item ships when it is done."""
        detect = item.type == ActionType.DETECT
        if item.status == ActionStatus.DONE:
            if detect and item.shipped_at is None:  # done before the review was written
                update = ActionItemUpdate(shipped_at=imported)
                self._update(item.id, update, imported + self.rng.uniform(1, 30) * HOUR)
            return
        if item.status == ActionStatus.WONT_DO:
            return
        fate = self.rng.random()
        if fate < WONT_DO:
            at = imported + self.rng.uniform(3, 30) * DAY
            self._update(item.id, ActionItemUpdate(status=ActionStatus.WONT_DO), at)
        elif fate < DONE:
            due = dt.datetime.combine(item.due, dt.time(17), dt.UTC) if item.due else imported
            at = max(due + self.rng.gauss(-5, 12) * DAY, imported + DAY)
            self._update(item.id, _done(at, detect), at)

    def _update(self, action_id: int, update: ActionItemUpdate, at: dt.datetime) -> None:
        self._at(
            at, AUTHOR, lambda now: actions.update_action_item(self.ws, action_id, update, now=now)
        )

    def run_until(self, until: dt.datetime) -> int:
        """Run the steps planned before `until` (and before the end of the period), in time
        order; returns how many ran."""
        ran = 0
        while self._steps and self._steps[0].at < min(until, self.end):
            step = heapq.heappop(self._steps)
            with acting(self.ws, step.actor):
                try:
                    step.run(step.at)
                except InputError:  # e.g. no suggested score to accept: the person moves on
                    continue
            ran += 1
        return ran

    def finish(self, seed: int) -> int:
        """The rest of the period, then the outcome check at its end; returns how many
        detect action items are verified."""
        self.run_until(self.end)
        with acting(self.ws, AUTHOR):
            checked = outcomes.check_outcomes(self.ws, now=self.end, seed=seed)
        return sum(1 for c in checked if c.verdict == "verified")


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9-]+", text.lower()) if len(w) >= 4}


def implementing(review: ReviewRead) -> list[tuple[int, int]]:
    """(action item id, recommendation position): for each recommendation, the item of the
    review sharing most words (at least two) with it, as its author links them before
    submitting; an item implements one recommendation at most."""
    free = {item.id: _words(item.title) for item in review.action_items}
    links = []
    for insight in review.insights:
        if insight.kind != InsightKind.RECOMMENDATION:
            continue
        said = _words(insight.text)
        best = max(free, key=lambda i: (len(free[i] & said), -i), default=None)
        if best is not None and len(free[best] & said) >= 2:
            links.append((best, insight.position))
            del free[best]
    return links


def _timeliness(written: dt.datetime, ended: dt.datetime) -> float:
    """The rubric's timeliness of an insight written `written` about an incident that ended
    `ended` (the rule the suggestions use, docs/review-format.md): the file does not say when
    each insight was captured, the facilitator knows when the review was written."""
    days = (written.date() - ended.date()).days
    return 1.0 if days <= 0 else round(max(0.0, 1 - days / 30), 2)


def _done(at: dt.datetime, detect: bool) -> ActionItemUpdate:
    if detect:
        return ActionItemUpdate(status=ActionStatus.DONE, shipped_at=at.replace(microsecond=0))
    return ActionItemUpdate(status=ActionStatus.DONE)
