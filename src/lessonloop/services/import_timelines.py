"""Source timelines and chat findings into an incident's review, never over what people wrote.

If the incident has no review yet, a draft is created holding the source's events (and
candidate insights). If a draft exists, source events and candidates are merged in: events
already present (same time, source and text) are skipped and human-written events are kept
as they are. A review past draft (in review, approved, published) is left untouched.

A postmortem's review merges the same way (``merge_postmortem``): its events are added, list
sections gain the items they lack, action items are matched by title, and a text section
replaces the stored one only when the postmortem has it (``stated``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy.orm import Session

from lessonloop.domain.actions import ActionItemCreate
from lessonloop.domain.enums import ReviewStatus
from lessonloop.domain.insights import InsightCreate
from lessonloop.domain.reviews import ReviewCreate, ReviewRead, TimelineEvent
from lessonloop.storage import incidents, reviews

__all__ = ["Merged", "merge_into_review", "merge_postmortem", "review_as_create"]

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


@dataclass(frozen=True)
class PostmortemMerge:
    """What a postmortem did to a stored review: outcome, changed sections, events added."""

    outcome: MergeOutcome
    status: ReviewStatus | None = None
    changed: list[str] = field(default_factory=list)
    events: int = 0


_TEXTS = ("title", "summary", "impact", "detection")
_ACTION_FACTS = ("owner", "due", "status", "external_link")
_LISTS = ("authors", "contributing_factors", "went_well", "went_wrong", "got_lucky")


def _merge_actions(
    stored: list[ActionItemCreate], found: list[ActionItemCreate], changed: list[str]
) -> list[ActionItemCreate]:
    by_title = {item.title.casefold(): n for n, item in enumerate(stored)}
    merged = list(stored)
    defaults = ActionItemCreate(title="x")
    added = updated = 0
    for item in found:
        at = by_title.get(item.title.casefold())
        if at is None:
            by_title[item.title.casefold()] = len(merged)
            merged.append(item)
            added += 1
            continue
        given = {  # what the postmortem says about the item, over what is stored
            name: getattr(item, name)
            for name in _ACTION_FACTS
            if getattr(item, name) != getattr(defaults, name)
        }
        current = merged[at]
        if any(getattr(current, name) != value for name, value in given.items()):
            merged[at] = ActionItemCreate.model_validate({**current.model_dump(), **given})
            updated += 1
    changed += [
        f"{n} action items {verb}" for n, verb in ((added, "added"), (updated, "updated")) if n
    ]
    return merged


def merge_postmortem(
    review: ReviewCreate, stated: frozenset[str], *, session: Session, actor: str
) -> PostmortemMerge:
    """Save a postmortem's review, merged into the stored one when there is one (see module)."""
    existing = reviews.get_by_incident(review.incident_key, session=session)
    if existing is None:
        return PostmortemMerge(reviews.save(review, session=session, actor=actor)[1])
    if existing.status != ReviewStatus.DRAFT:
        return PostmortemMerge("kept", existing.status)
    current = review_as_create(existing)
    changed: list[str] = []
    update: dict[str, object] = {}
    for name in _TEXTS:
        value = getattr(review, name)
        if name in stated and value != getattr(current, name):
            update[name] = value
            changed.append(name)
    for name in _LISTS:
        have = getattr(current, name)
        new = [item for item in getattr(review, name) if item not in have]
        if new:
            update[name] = [*have, *new]
            changed.append(name)
    sections = dict(current.extra_sections)
    for heading, text in review.extra_sections.items():
        if sections.get(heading) != text:
            sections[heading] = text
            changed.append(f"section {heading!r}")
    update["extra_sections"] = sections
    update["action_items"] = _merge_actions(current.action_items, review.action_items, changed)
    seen = {_event_key(event) for event in current.timeline}
    new_events = [event for event in review.timeline if _event_key(event) not in seen]
    update["timeline"] = sorted([*current.timeline, *new_events], key=lambda e: e.at)
    if not changed and not new_events:
        return PostmortemMerge("unchanged")
    merged = ReviewCreate.model_validate({**current.model_dump(), **update})
    outcome = reviews.save(merged, session=session, actor=actor)[1]
    return PostmortemMerge(outcome, changed=changed, events=len(new_events))
