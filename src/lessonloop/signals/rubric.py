"""Suggested quality-rubric scores for an insight: heuristics a person may accept, never a rating.

Each axis gets a score in [0, 1] and a one-line reason, or None with the reason nothing
objective could be said:

- relevance: only with evidence in the data (an accepted signal came from the insight);
  otherwise it needs a person.
- timeliness: when the insight was captured against the incident's end (its start while it is
  unresolved): 1.0 on the same day or earlier, falling linearly to 0 at 30 days.
- breadth: the services the insight touches (listed, or named in its text) against the
  incident's, and their owning teams when the catalogue says.
- actionability: recommendations only; high when an action item with an owner and a due date
  tracks it, low when none does.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence

from pydantic import Field

from lessonloop.domain.actions import ActionItemRead
from lessonloop.domain.common import DomainModel
from lessonloop.domain.enums import ActionStatus, InsightKind, SignalStatus
from lessonloop.domain.incidents import IncidentRead
from lessonloop.domain.insights import InsightRead
from lessonloop.domain.reviews import ReviewRead
from lessonloop.domain.signals import SignalRead

__all__ = ["AXES", "AxisSuggestion", "RubricSuggestion", "suggest_rubric"]

AXES = ("relevance", "timeliness", "breadth", "actionability")
DECAY_DAYS = 30
ACCEPTED_RELEVANCE = 0.9
UNTRACKED_ACTIONABILITY = 0.1
DROPPED_ACTIONABILITY = 0.3
WORDING_DISCOUNT = 0.8
_STOPWORDS_TEXT = """
about after also before from have into more only over than that their them then there these
they this were what when where which while will with would your
"""
_STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


class AxisSuggestion(DomainModel):
    """A suggested score (None: nothing objective to go on) and why, in one line."""

    score: float | None = Field(default=None, ge=0, le=1)
    reason: str


class RubricSuggestion(DomainModel):
    """Suggested scores on the four rubric axes; a suggestion, not a rating."""

    relevance: AxisSuggestion
    timeliness: AxisSuggestion
    breadth: AxisSuggestion
    actionability: AxisSuggestion

    def scores(self) -> dict[str, float | None]:
        """The suggested score per axis (None where there is none)."""
        return {axis: getattr(self, axis).score for axis in AXES}


def suggest_rubric(
    insight: InsightRead,
    *,
    incident: IncidentRead,
    review: ReviewRead,
    action_items: Sequence[ActionItemRead],
    now: dt.datetime,
    signals: Sequence[SignalRead] = (),
    teams: Mapping[str, str | None] | None = None,
) -> RubricSuggestion:
    """Suggest rubric scores for ``insight`` of ``review`` (about ``incident``).

    ``signals`` are those that may have come from the insight (matched on their provenance);
    ``teams`` maps service names to their owning team, when known.
    """
    return RubricSuggestion(
        relevance=_relevance(insight, signals),
        timeliness=_timeliness(insight, incident, now),
        breadth=_breadth(insight, incident, teams or {}),
        actionability=_actionability(insight, review, action_items),
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _relevance(insight: InsightRead, signals: Sequence[SignalRead]) -> AxisSuggestion:
    own = [s for s in signals if s.provenance.insight_id == insight.id]
    accepted = sum(1 for s in own if s.status == SignalStatus.ACCEPTED)
    if accepted:
        return AxisSuggestion(
            score=ACCEPTED_RELEVANCE,
            reason=f"led to {_plural(accepted, 'accepted signal')}",
        )
    if own:
        return AxisSuggestion(
            reason=f"needs a person ({_plural(len(own), 'signal')} from it, none accepted)"
        )
    return AxisSuggestion(reason="needs a person")


def _timeliness(insight: InsightRead, incident: IncidentRead, now: dt.datetime) -> AxisSuggestion:
    captured = insight.provenance.captured_at
    if captured is None:
        return AxisSuggestion(reason="capture time unknown")
    if captured > now:
        return AxisSuggestion(reason=f"capture time {captured:%Y-%m-%d} is in the future")
    reference, label = (
        (incident.resolved_at, "resolution")
        if incident.resolved_at is not None
        else (incident.started_at, "start")
    )
    days = (captured.date() - reference.date()).days
    if days <= 0:
        return AxisSuggestion(score=1.0, reason=f"captured by the day of the incident's {label}")
    score = round(max(0.0, 1 - days / DECAY_DAYS), 2)
    return AxisSuggestion(
        score=score, reason=f"captured {_plural(days, 'day')} after the incident's {label}"
    )


def _named_in(text: str, service: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(service)}(?![\w-])", text, re.IGNORECASE) is not None


def _breadth(
    insight: InsightRead, incident: IncidentRead, teams: Mapping[str, str | None]
) -> AxisSuggestion:
    scope = list(dict.fromkeys(incident.services))
    if not scope:
        return AxisSuggestion(reason="the incident lists no services")
    named = [s for s in scope if s not in insight.services and _named_in(insight.text, s)]
    touched = list(dict.fromkeys([*insight.services, *named]))
    if not touched:
        return AxisSuggestion(reason="names none of the incident's services")
    inside = sum(1 for s in touched if s in scope)
    score = min(1.0, len(touched) / len(scope))
    reason = f"touches {inside} of the incident's {_plural(len(scope), 'service')}"
    if len(touched) > inside:
        reason += f" and {len(touched) - inside} more"
    scope_teams = {t for s in scope if (t := teams.get(s))}
    if scope_teams:
        touched_teams = {t for s in touched if (t := teams.get(s))}
        score = (score + min(1.0, len(touched_teams) / len(scope_teams))) / 2
        reason += f", {len(touched_teams & scope_teams)} of {_plural(len(scope_teams), 'team')}"
        if touched_teams - scope_teams:
            reason += f" and {len(touched_teams - scope_teams)} more"
    return AxisSuggestion(score=round(score, 2), reason=reason)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.casefold()) if len(w) > 3} - _STOPWORDS


def _similar(first: str, second: str) -> bool:
    """Whether two texts share at least two content words, half of the shorter one's."""
    a, b = _words(first), _words(second)
    shared = len(a & b)
    return shared >= 2 and shared >= min(len(a), len(b)) / 2


def _actionability(
    insight: InsightRead, review: ReviewRead, action_items: Sequence[ActionItemRead]
) -> AxisSuggestion:
    if insight.kind == InsightKind.OBSERVATION:
        return AxisSuggestion(reason="observations are descriptive")
    own = [a for a in action_items if a.review_id == review.id]
    linked = [a for a in own if a.insight_position == insight.position]
    by_wording = not linked
    if by_wording:
        linked = [a for a in own if a.insight_position is None and _similar(a.title, insight.text)]
    if not linked:
        return AxisSuggestion(score=UNTRACKED_ACTIONABILITY, reason="no action item tracks it")
    live = [a for a in linked if a.status != ActionStatus.WONT_DO]
    if not live:
        return AxisSuggestion(
            score=DROPPED_ACTIONABILITY, reason=f"its action item '{linked[0].title}' is wont do"
        )
    best = max(live, key=lambda a: (a.owner is not None) + (a.due is not None))
    score = 0.5 + 0.25 * (best.owner is not None) + 0.25 * (best.due is not None)
    how = "tracked by"
    if by_wording:
        score *= WORDING_DISCOUNT
        how = "probably tracked by (similar wording)"
    owner = f"owner {best.owner}" if best.owner else "no owner"
    due = f"due {best.due}" if best.due else "no due date"
    return AxisSuggestion(
        score=round(score, 2), reason=f"{how} action item '{best.title}' ({owner}, {due})"
    )
