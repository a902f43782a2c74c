"""Source timelines and chat findings into an incident's review, never over what people wrote.

If the incident has no review yet, a draft is created holding the source's events (and
candidate insights). If a draft exists, source events and candidates are merged in: events
already present (same time, source and text) are skipped and human-written events are kept
as they are. A review past draft (in review, approved, published) is left untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy.orm import Session

from lessonloop.domain.actions import ActionItemCreate
from lessonloop.domain.enums import ReviewStatus
from lessonloop.domain.insights import InsightCreate
from lessonloop.domain.reviews import ReviewCreate, ReviewRead, TimelineEvent
from lessonloop.storage import incidents, reviews

__all__ = ["Merged", "merge_into_review", "review_as_create"]

MergeOutcome = Literal["created", "updated", "unchanged", "kept"]


@dataclass(frozen=True)
class Merged:
    """What a merge did: the review's outcome and how many events and insights went in."""

    outcome: MergeOutcome
    events: int
    insights: int


def review_as_create(review: ReviewRead) -> ReviewCreate:
    """The editable content of a stored review (what `reviews.save` takes back)."""
    data = review.model_dump(include=set(ReviewCreate.model_fields) - {"insights", "action_items"})
    insight_fields = set(InsightCreate.model_fields)
    action_fields = set(ActionItemCreate.model_fields)
    return ReviewCreate.model_validate(
        {
            **data,
            "insights": [i.model_dump(include=insight_fields) for i in review.insights],
            "action_items": [a.model_dump(include=action_fields) for a in review.action_items],
        }
    )


def _event_key(event: TimelineEvent) -> tuple[str, str, str]:
    return (event.at.isoformat(), event.source, event.text)


def merge_into_review(
    incident_key: str,
    events: list[TimelineEvent],
    insights: list[InsightCreate],
    *,
    session: Session,
    actor: str,
) -> Merged:
    """Add source events and candidate insights to the incident's draft review (see module)."""
    existing = reviews.get_by_incident(incident_key, session=session)
    if existing is None:
        incident = incidents.get(incident_key, session=session)
        draft = ReviewCreate(
            incident_key=incident_key,
            title=incident.title,
            summary=incident.summary,
            timeline=sorted(events, key=lambda e: e.at),
            insights=insights,
        )
        return Merged(
            reviews.save(draft, session=session, actor=actor)[1], len(events), len(insights)
        )
    if existing.status != ReviewStatus.DRAFT:
        return Merged("kept", 0, 0)
    current = review_as_create(existing)
    seen = {_event_key(event) for event in current.timeline}
    new_events = [event for event in events if _event_key(event) not in seen]
    known_texts = {insight.text for insight in current.insights}
    new_insights = [insight for insight in insights if insight.text not in known_texts]
    if not new_events and not new_insights:
        return Merged("unchanged", 0, 0)
    timeline = sorted([*current.timeline, *new_events], key=lambda e: e.at)
    merged = current.model_copy(
        update={"timeline": timeline, "insights": [*current.insights, *new_insights]}
    )
    outcome = reviews.save(
        ReviewCreate.model_validate(merged.model_dump()), session=session, actor=actor
    )[1]
    return Merged(outcome, len(new_events), len(new_insights))
