"""Similar past incidents: lexical BM25 over each incident's text plus structural evidence.

score = 0.55 · BM25 (scaled to the best candidate) + 0.20 · shared services (Jaccard)
      + 0.15 · same failure mode + 0.10 · shared alert names (Jaccard).
The weights were fixed by judgement before any evaluation. Only incidents that started before
the query incident are candidates, so a precedent is always something the team could have known.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from collections.abc import Collection
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from lessonloop.domain.common import REDACTION_TOKEN
from lessonloop.errors import InputError, NotFound
from lessonloop.knowledge.index import incident_documents
from lessonloop.knowledge.taxonomy import list_terms, matching_terms
from lessonloop.knowledge.terms import STOP_WORDS, words
from lessonloop.storage.search import search_documents
from lessonloop.storage.tables import ActionItemRow, IncidentRow, ReviewRow
from lessonloop.text.tokens import split_cjk

__all__ = ["PrecedentAction", "Precedent", "PrecedentResults", "bm25_scores", "find_precedents"]

WEIGHTS = {"lexical": 0.55, "services": 0.20, "failure_mode": 0.15, "alerts": 0.10}
K1, B = 1.2, 0.75


class PrecedentAction(BaseModel):
    title: str
    type: str
    status: str
    completed: bool


class Precedent(BaseModel):
    incident_key: str
    title: str
    started_at: dt.datetime | None
    severity: str
    score: float
    lexical: float
    shared_services: list[str]
    shared_terms: list[str]
    shared_failure_modes: list[str]
    shared_alerts: list[str]
    why: list[str]
    remediations: list[str]
    remediation_source: str
    actions: list[PrecedentAction]


class PrecedentResults(BaseModel):
    incident_key: str | None
    query_terms: list[str]
    failure_modes: list[str]
    precedents: list[Precedent] = Field(default_factory=list)


def _tokens(text: str) -> list[str]:
    """Ranking terms: words without stop words, Chinese/Japanese/Korean as character pairs;
    redaction tokens (``<person:2528e2>``) are not words."""
    return [
        piece
        for w in words(REDACTION_TOKEN.sub(" ", text))
        if w not in STOP_WORDS
        for piece in split_cjk(w)
        if len(piece) > 1
    ]


def bm25_scores(
    query: Counter[str], corpus: dict[str, Counter[str]]
) -> dict[str, tuple[float, dict[str, float]]]:
    """Okapi BM25 of each document for the query; with each term's contribution."""
    if not corpus:
        return {}
    lengths = {key: sum(tf.values()) for key, tf in corpus.items()}
    average = sum(lengths.values()) / len(lengths) or 1.0
    frequency = Counter(term for tf in corpus.values() for term in tf if term in query)
    n = len(corpus)
    idf = {t: math.log(1 + (n - f + 0.5) / (f + 0.5)) for t, f in frequency.items()}
    out: dict[str, tuple[float, dict[str, float]]] = {}
    for key, tf in corpus.items():
        parts = {}
        norm = K1 * (1 - B + B * lengths[key] / average)
        for term in query:
            count = tf.get(term, 0)
            if count:
                parts[term] = idf[term] * count * (K1 + 1) / (count + norm)
        if parts:
            out[key] = (sum(parts.values()), parts)
    return out


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a | b else 0.0


def _candidates(
    session: Session, exclude: str | None, before: dt.datetime | None
) -> dict[str, dict[str, Any]]:
    query = select(
        search_documents.c.incident_key,
        search_documents.c.entity_type,
        search_documents.c.title,
        search_documents.c.body,
        search_documents.c.facets,
        search_documents.c.started_at,
    )
    if before is not None:
        query = query.where(search_documents.c.started_at < before)
    out: dict[str, dict[str, Any]] = {}
    for key, kind, title, body, facets, started in session.execute(query):
        if key == exclude:
            continue
        entry = out.setdefault(key, {"tf": Counter(), "facets": facets, "started_at": started})
        entry["tf"].update(_tokens(f"{title}\n{body}"))
        if kind == "incident":
            entry["facets"] = facets
    return out


def _actions(session: Session, key: str) -> list[PrecedentAction]:
    rows = session.scalars(
        select(ActionItemRow)
        .join(ReviewRow, ReviewRow.id == ActionItemRow.review_id)
        .join(IncidentRow, IncidentRow.id == ReviewRow.incident_id)
        .where(IncidentRow.key == key)
        .order_by(ActionItemRow.position)
    )
    return [
        PrecedentAction(title=r.title, type=r.type, status=r.status, completed=r.status == "done")
        for r in rows
    ]


def _profile(
    session: Session, incident_key: str | None, text: str | None
) -> tuple[Counter[str], set[str], set[str], set[str], dt.datetime | None]:
    """Query terms, services, failure modes, alert names and cut-off time of the query."""
    if incident_key:
        if session.scalar(select(IncidentRow.id).where(IncidentRow.key == incident_key)) is None:
            raise NotFound(f"unknown incident {incident_key!r}")
        docs = incident_documents(session, incident_key)
        facets = docs[0]["facets"]
        tokens = Counter(_tokens(" ".join(f"{d['title']}\n{d['body']}" for d in docs)))
        if text:
            tokens.update(_tokens(text))
        return (
            tokens,
            set(facets["service"]),
            set(facets["failure_mode"]),
            set(facets["alert"]),
            docs[0]["started_at"],
        )
    tokens = Counter(_tokens(text or ""))
    if not tokens:
        raise InputError("give an incident key or some --text with words in it", field="text")
    modes = set(matching_terms(list_terms(session, "failure_mode"), "failure_mode", text or ""))
    return tokens, set(), modes, set(), None


def find_precedents(
    session: Session,
    *,
    incident_key: str | None = None,
    text: str | None = None,
    limit: int = 5,
    only: Collection[str] | None = None,
) -> PrecedentResults:
    """The ``limit`` most similar earlier incidents, each with its evidence and follow-up.

    With ``only``, the candidates are those incidents (still only earlier ones), each explained
    even when nothing matches: a ranker of its own chose them and wants the evidence.
    """
    if not 1 <= limit <= 100:
        raise InputError("limit must be between 1 and 100", field="limit")
    query, services, modes, alerts, before = _profile(session, incident_key, text)
    candidates = _candidates(session, incident_key, before)
    if only is not None:
        wanted = set(only)
        candidates = {key: entry for key, entry in candidates.items() if key in wanted}
    lexical = bm25_scores(query, {k: c["tf"] for k, c in candidates.items()})
    best = max((score for score, _ in lexical.values()), default=0.0) or 1.0
    ranked = []
    for key, entry in candidates.items():
        facets = entry["facets"]
        lex, parts = lexical.get(key, (0.0, {}))
        shared_services = services & set(facets.get("service", []))
        shared_modes = modes & set(facets.get("failure_mode", []))
        shared_alerts = alerts & set(facets.get("alert", []))
        score = (
            WEIGHTS["lexical"] * lex / best
            + WEIGHTS["services"] * _jaccard(services, set(facets.get("service", [])))
            + WEIGHTS["failure_mode"] * (1.0 if shared_modes else 0.0)
            + WEIGHTS["alerts"] * _jaccard(alerts, set(facets.get("alert", [])))
        )
        if score > 0 or only is not None:
            terms = [t for t, _ in sorted(parts.items(), key=lambda p: (-p[1], p[0]))[:6]]
            ranked.append((score, key, lex, terms, shared_services, shared_modes, shared_alerts))
    ranked.sort(key=lambda r: (-r[0], -(_ts(candidates[r[1]]["started_at"])), r[1]))
    titles = _pairs(
        session.execute(
            select(IncidentRow.key, IncidentRow.title).where(
                IncidentRow.key.in_([r[1] for r in ranked[:limit]])
            )
        )
    )
    out = []
    for score, key, lex, terms, svc, fm, al in ranked[:limit]:
        facets = candidates[key]["facets"]
        why = [
            text
            for text in (
                f"shared services: {', '.join(sorted(svc))}" if svc else "",
                f"same failure mode: {', '.join(sorted(fm))}" if fm else "",
                f"same alerts: {', '.join(sorted(al))}" if al else "",
                f"shared terms: {', '.join(terms)}" if terms else "",
            )
            if text
        ]
        out.append(
            Precedent(
                incident_key=key,
                title=titles.get(key, ""),
                started_at=candidates[key]["started_at"],
                severity=(facets.get("severity") or [""])[0],
                score=round(score, 4),
                lexical=round(lex, 4),
                shared_services=sorted(svc),
                shared_terms=terms,
                shared_failure_modes=sorted(fm),
                shared_alerts=sorted(al),
                why=why,
                remediations=list(facets.get("remediation", [])),
                remediation_source=str(facets.get("_remediation_source", "none")),
                actions=_actions(session, key),
            )
        )
    return PrecedentResults(
        incident_key=incident_key,
        query_terms=sorted(query)[:50],
        failure_modes=sorted(modes),
        precedents=out,
    )


def _ts(value: dt.datetime | None) -> float:
    return value.timestamp() if value is not None else 0.0


def _pairs(rows: Any) -> dict[str, str]:
    """A two-column result as a dict."""
    return {key: value for key, value in rows}
