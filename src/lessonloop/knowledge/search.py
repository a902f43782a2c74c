"""Ranked full-text search with highlighted snippets and facet counts, on SQLite and PostgreSQL.

SQLite ranks with FTS5's ``bm25()`` and highlights with ``snippet()``; PostgreSQL ranks with
``ts_rank_cd()`` (length-normalised) and highlights with ``ts_headline()``. Both match all
query terms first and fall back to any term when nothing matches all of them, and both break
ties the same way (newest incident first, then entity), so a clear query ranks the same
incidents in the same order on either engine. Matches are marked ``**like this**``.

A query first takes its newest ``WINDOW`` matching documents (by index order, which both
engines read straight from their index), then ranks them and counts their facets. Below
``WINDOW`` matches that is exact; above it, a very broad query is answered from its most
recent matches, which keeps latency flat as the corpus grows (``total_is_lower_bound``).
On PostgreSQL all of that is one statement, planned for its actual terms (see
``_run_postgres``), over vectors stored inline in the row (migration 0003).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from lessonloop.domain.enums import Severity
from lessonloop.errors import InputError
from lessonloop.knowledge.taxonomy import list_terms
from lessonloop.knowledge.terms import query_terms
from lessonloop.storage.search import search_facets
from lessonloop.storage.tables import IncidentRow, ServiceRow
from lessonloop.storage.types import UtcDateTime

__all__ = ["SearchFilters", "SearchHit", "SearchResults", "search"]

MARK = "**"
TITLE_WEIGHT = 2.5  # FTS5 column weight; PostgreSQL's A/B weights (1.0/0.4) have the same ratio
WINDOW = 2000  # a broad query ranks and counts its newest 2,000 matches (keeps p95 bounded)
ENTITY_TYPES = ("incident", "review", "insight", "action")


class SearchFilters(BaseModel):
    """Facet filters; each one narrows the results (values within one facet are ORed)."""

    service: list[str] = Field(default_factory=list)
    severity: list[str] = Field(default_factory=list)
    failure_mode: list[str] = Field(default_factory=list)
    tag: list[str] = Field(default_factory=list)
    entity_type: list[str] = Field(default_factory=list)
    since: dt.datetime | None = None


class SearchHit(BaseModel):
    incident_key: str
    incident_title: str
    entity_type: str
    entity_id: str
    title: str
    snippet: str
    score: float
    started_at: dt.datetime | None


class SearchResults(BaseModel):
    query: str
    terms: list[str]
    match: Literal["all", "any", "none"]
    total: int
    total_is_lower_bound: bool = False
    hits: list[SearchHit]
    facets: dict[str, list[tuple[str, int]]]


def _check_filters(session: Session, filters: SearchFilters) -> None:
    """Clear errors for filter values that cannot match anything by construction."""
    for name in filters.service:
        if session.scalar(select(ServiceRow.id).where(ServiceRow.name == name)) is None:
            raise InputError(
                f"unknown service {name!r} (see 'lessonloop services list')", field="service"
            )
    for value in filters.severity:
        if value.upper() not in Severity.__members__.values():
            raise InputError(f"unknown severity {value!r}; expected SEV1..SEV5", field="severity")
    for value in filters.entity_type:
        if value not in ENTITY_TYPES:
            raise InputError(
                f"unknown entity type {value!r}; expected one of {', '.join(ENTITY_TYPES)}",
                field="entity_type",
            )
    known_modes = (
        {t.value for t in list_terms(session, "failure_mode")} if filters.failure_mode else set()
    )
    for value in filters.failure_mode:
        if (
            value.lower() not in known_modes
            and session.scalar(
                select(search_facets.c.value)
                .where(
                    search_facets.c.facet == "failure_mode", search_facets.c.value == value.lower()
                )
                .limit(1)
            )
            is None
        ):
            raise InputError(
                f"unknown failure mode {value!r} (see 'lessonloop taxonomy list failure_mode')",
                field="failure_mode",
            )


def _filter_sql(filters: SearchFilters, params: dict[str, Any], id_expr: str) -> str:
    """``AND <id_expr> IN (...)`` conditions for the filters, adding their parameters."""
    clauses: list[str] = []
    wanted = {
        "service": filters.service,
        "severity": [v.upper() for v in filters.severity],
        "failure_mode": [v.lower() for v in filters.failure_mode],
        "tag": [v.lower() for v in filters.tag],
        "entity_type": filters.entity_type,
    }
    for facet, values in wanted.items():
        if not values:
            continue
        names = []
        for value in values:
            name = f"f{len(params)}"
            params[name] = value
            names.append(f":{name}")
        clauses.append(
            f"{id_expr} IN (SELECT document_id FROM search_facets WHERE facet = "
            f"'{facet}' AND value IN ({', '.join(names)}))"
        )
    if filters.since is not None:
        clauses.append(f"{id_expr} IN (SELECT id FROM search_documents WHERE started_at >= :since)")
    return "".join(f" AND {c}" for c in clauses)


def _statement(sql: str, params: dict[str, Any], since: dt.datetime | None) -> Any:
    statement = text(sql)
    if since is not None and ":since" in sql:
        statement = statement.bindparams(bindparam("since", type_=UtcDateTime()))
        params["since"] = since if since.tzinfo else since.replace(tzinfo=dt.UTC)
    return statement


COLUMNS = "d.id, d.incident_key, d.entity_type, d.entity_id, d.title, d.started_at"
ORDER = "ORDER BY score DESC, started_at DESC, entity_type, entity_id"


def _sqlite_sql(
    terms: list[str], mode: str, params: dict[str, Any], filters: SearchFilters
) -> tuple[str, str]:
    """(window query, ranking query) for SQLite; ranking reads the window's lowest rowid."""
    if mode == "none":
        where = _filter_sql(filters, params, "d.id")
        return (
            f"SELECT d.id FROM search_documents d WHERE 1 = 1{where} ORDER BY d.id DESC LIMIT :cap",
            f"SELECT {COLUMNS}, 0.0 AS score, substr(d.body, 1, 200) AS snippet "
            f"FROM search_documents d WHERE d.id >= :low{where} {ORDER} LIMIT :limit",
        )
    quoted = [f'"{t}"' for t in terms]
    params["q"] = " ".join(quoted) if mode == "all" else " OR ".join(quoted)
    # "+rowid" keeps the filters from driving one FTS5 lookup per filtered row.
    where = _filter_sql(filters, params, "+search_fts.rowid")
    return (
        f"SELECT search_fts.rowid FROM search_fts WHERE search_fts MATCH :q{where} "
        "ORDER BY search_fts.rowid DESC LIMIT :cap",
        f"SELECT {COLUMNS}, -bm25(search_fts, {TITLE_WEIGHT}, 1.0) AS score, "
        f"snippet(search_fts, -1, '{MARK}', '{MARK}', '…', 16) AS snippet FROM search_fts "
        "JOIN search_documents d ON d.id = search_fts.rowid WHERE search_fts MATCH :q "
        f"AND search_fts.rowid >= :low{where} {ORDER} LIMIT :limit",
    )


def _postgres_sql(
    terms: list[str], mode: str, params: dict[str, Any], filters: SearchFilters
) -> str:
    """One statement for PostgreSQL: window, ranking, snippets and facet counts.

    The window is read in id order (or from the GIN index for rare terms) and ranked in the
    same pass, carrying only narrow columns, so each document's inline ``tsvector`` is read
    once and nothing wide is sorted. Snippets are computed for the rows shown only, and the
    facets are counted over the window's ids without sending them to the client.
    """
    where = _filter_sql(filters, params, "d.id")
    if mode == "none":
        match, score, snippet = "TRUE", "0.0", "substr(d.body, 1, 200)"
    else:
        params["q"] = " ".join(terms) if mode == "all" else " | ".join(terms)
        tsquery = f"{'plainto_tsquery' if mode == 'all' else 'to_tsquery'}('english', :q)"
        match = f"d.tsv @@ {tsquery}"
        score = f"ts_rank_cd('{{0.1, 0.2, 0.4, 1.0}}', d.tsv, {tsquery}, 1)"
        snippet = (
            f"ts_headline('english', CASE WHEN d.body = '' THEN d.title ELSE d.body END, "
            f"{tsquery}, 'StartSel={MARK}, StopSel={MARK}, MaxWords=24, "
            f'MinWords=8, MaxFragments=2, FragmentDelimiter=" … "\')'
        )
    narrow = COLUMNS.replace(", d.title", "")  # the window carries no text, only keys
    return (
        f"WITH win AS MATERIALIZED (SELECT {narrow}, {score} AS score "
        f"FROM search_documents d WHERE {match}{where} ORDER BY d.id DESC LIMIT :cap), "
        f"top AS (SELECT * FROM win {ORDER} LIMIT :limit), "
        "counts AS (SELECT facet, value, count(*) AS n FROM search_facets "
        "WHERE document_id = ANY(ARRAY(SELECT id FROM win)) GROUP BY facet, value) "
        f"SELECT top.*, d.title, {snippet} AS snippet, "
        "(SELECT count(*) FROM win) AS window_size, "
        "(SELECT json_agg(json_build_array(facet, value, n)) FROM counts) AS facet_counts "
        f"FROM top JOIN search_documents d ON d.id = top.id {ORDER}"
    )


FacetCounts = dict[str, list[tuple[str, int]]]


def _sorted_facets(counts: Iterable[tuple[str, str, int]]) -> FacetCounts:
    """Facet counts by facet name (alphabetical), most frequent value first (ties by value).

    The order is fixed here, not by the engine: PostgreSQL's ``json_agg`` over a hashed group
    comes back in any order.
    """
    facets: FacetCounts = {}
    for facet, value, count in counts:
        facets.setdefault(facet, []).append((value, int(count)))
    for values in facets.values():
        values.sort(key=lambda item: (-item[1], item[0]))
    return dict(sorted(facets.items()))


def _run_sqlite(
    session: Session, terms: list[str], mode: str, filters: SearchFilters, limit: int
) -> tuple[list[Any], FacetCounts, int]:
    """Window ids from FTS5, then ranking and snippets above the window's lowest id."""
    params: dict[str, Any] = {"limit": limit, "cap": WINDOW}
    window_sql, rank_sql = _sqlite_sql(terms, mode, params, filters)
    ids = list(session.scalars(_statement(window_sql, params, filters.since), params))
    if not ids:
        return [], {}, 0
    params["low"] = min(ids)
    rows = list(session.execute(_statement(rank_sql, params, filters.since), params))
    counts = session.execute(
        text(
            "SELECT facet, value, count(*) FROM search_facets WHERE document_id "
            "IN (SELECT value FROM json_each(:id_list)) GROUP BY facet, value"
        ),
        {"id_list": json.dumps(ids)},
    )
    return rows, _sorted_facets(counts), len(ids)


def _set_planner(session: Session, plan_cache_mode: str, jit: str) -> None:
    """Set the plan cache mode and JIT for the rest of the current transaction."""
    session.execute(
        text("SELECT set_config('plan_cache_mode', :mode, true), set_config('jit', :jit, true)"),
        {"mode": plan_cache_mode, "jit": jit},
    )


def _run_postgres(
    session: Session, terms: list[str], mode: str, filters: SearchFilters, limit: int
) -> tuple[list[Any], FacetCounts, int]:
    """Everything in one statement, planned for its actual parameters.

    psycopg prepares a statement it has run five times, and PostgreSQL may then switch to a
    generic plan that cannot see how common the terms are (a bitmap scan over every match
    instead of reading the newest rows in id order: many times slower for common terms), so
    the transaction is set to plan each execution (``plan_cache_mode``), and not to JIT-compile
    (its compile time alone exceeds a search's budget). The caller's settings are put back
    right after the search statement, so later statements of its transaction are unaffected.
    """
    params: dict[str, Any] = {"limit": limit, "cap": WINDOW}
    sql = _postgres_sql(terms, mode, params, filters)
    saved = session.execute(
        text("SELECT current_setting('plan_cache_mode'), current_setting('jit')")
    ).one()
    _set_planner(session, "force_custom_plan", "off")
    try:
        rows = list(session.execute(_statement(sql, params, filters.since), params))
    finally:
        _set_planner(session, saved[0], saved[1])
    if not rows:
        return [], {}, 0
    return rows, _sorted_facets(rows[0].facet_counts or []), int(rows[0].window_size)


def search(
    session: Session, query: str, filters: SearchFilters | None = None, *, limit: int = 10
) -> SearchResults:
    """Ranked hits with snippets and facet counts for ``query`` (may be empty: newest first)."""
    filters = filters or SearchFilters()
    if not 1 <= limit <= 500:
        raise InputError("limit must be between 1 and 500", field="limit")
    _check_filters(session, filters)
    terms = query_terms(query)
    modes = ["all", "any"] if len(terms) > 1 else ["all"] if terms else ["none"]
    rows: list[Any] = []
    facets: dict[str, list[tuple[str, int]]] = {}
    mode = modes[0]
    window = 0
    run = _run_sqlite if session.get_bind().dialect.name == "sqlite" else _run_postgres
    for mode in modes:
        rows, facets, window = run(session, terms, mode, filters, limit)
        if rows:
            break
    keys = sorted({row.incident_key for row in rows})
    titles = (
        _pairs(
            session.execute(
                select(IncidentRow.key, IncidentRow.title).where(IncidentRow.key.in_(keys))
            )
        )
        if keys
        else {}
    )
    hits = [
        SearchHit(
            incident_key=row.incident_key,
            incident_title=titles.get(row.incident_key, ""),
            entity_type=row.entity_type,
            entity_id=row.entity_id,
            title=row.title,
            snippet=" ".join((row.snippet or "").split()),
            score=round(float(row.score), 6),
            started_at=_aware(row.started_at),
        )
        for row in rows
    ]
    return SearchResults(
        query=query,
        terms=terms,
        match=mode,  # type: ignore[arg-type]  # one of "all", "any", "none" by construction
        total=window,
        total_is_lower_bound=window >= WINDOW,
        hits=hits,
        facets=facets,
    )


def _aware(value: Any) -> dt.datetime | None:
    """Raw SQL returns naive UTC (or a string on SQLite): make it an aware datetime."""
    if value is None:
        return None
    parsed: dt.datetime = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def _pairs(rows: Any) -> dict[str, str]:
    """A two-column result as a dict."""
    return {key: value for key, value in rows}
