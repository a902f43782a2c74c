"""The text models read about an incident: title, summary, review prose and insights."""

from __future__ import annotations

from lessonloop.services.workspace import Workspace
from lessonloop.storage import incidents as incident_store
from lessonloop.storage import reviews as review_store

__all__ = ["incident_text"]


def incident_text(ws: Workspace, key: str) -> str:
    """What a classifier reads about an incident: title, summary, review prose and insights."""
    with ws.transaction() as session:
        incident = incident_store.get(key, session=session)
        review = review_store.get_by_incident(key, session=session)
    parts = [incident.title, incident.summary]
    if review is not None:
        parts += [
            review.summary,
            review.impact,
            review.detection,
            *review.contributing_factors,
            *(i.text for i in review.insights),
        ]
    return "\n".join(p for p in parts if p)
