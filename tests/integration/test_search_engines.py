"""Search, precedents and indexing on SQLite and on PostgreSQL, with the same data on both."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from tests.factories import accept_failure_mode, propose_failure_mode

from lessonloop.domain.actions import ActionItemCreate
from lessonloop.domain.alerts import AlertCreate
from lessonloop.domain.enums import ActionStatus, InsightKind, Severity
from lessonloop.domain.incidents import IncidentCreate
from lessonloop.domain.insights import InsightCreate
from lessonloop.domain.reviews import AlertNote, DecisionPoint, ReviewCreate, TimelineEvent
from lessonloop.domain.services import ServiceCreate
from lessonloop.errors import InputError, NotFound
from lessonloop.ingest.review_format import ParsedReview
from lessonloop.knowledge.index import index_incident, reindex_all
from lessonloop.knowledge.search import SearchFilters
from lessonloop.services import catalog, knowledge
from lessonloop.services.reviews import import_parsed_review
from lessonloop.storage import alerts, incidents
from lessonloop.storage.search import search_documents

T0 = dt.datetime(2026, 1, 5, 10, 0, tzinfo=dt.UTC)

CORPUS = [
    # key, services, severity, title, summary, tags, alert, actions (title, status), remediation
    (
        "INC-1",
        ["checkout", "payments"],
        "SEV2",
        "Checkout latency after config push",
        "A bad config push doubled the connection pool timeout and checkout latency spiked. "
        "We rolled back the config.",
        ["config"],
        "HighLatencyP99",
        [("Validate config pushes in CI", "done"), ("Add canary for config", "open")],
        "rollback",
    ),
    (
        "INC-2",
        ["search"],
        "SEV3",
        "Search memory leak",
        "The search indexer leaked memory until pods were OOM killed; restarted the pods.",
        ["memory"],
        "PodOOMKilled",
        [("Fix the indexer leak", "done")],
        None,
    ),
    (
        "INC-3",
        ["checkout"],
        "SEV1",
        "Checkout outage from expired certificate",
        "The TLS certificate of the checkout gateway expired and every request failed.",
        ["tls"],
        "CheckoutDown",
        [("Automate certificate renewal", "in progress")],
        None,
    ),
    (
        "INC-4",
        ["payments"],
        "SEV2",
        "Payments latency from config push",
        "Another config push to payments raised latency; the config push was rolled back.",
        ["config"],
        "HighLatencyP99",
        [("Config diff review", "open")],
        None,
    ),
    (
        "INC-5",
        ["search"],
        "SEV4",
        "DNS resolver flaps",
        "Search lookups failed while the DNS resolver flapped.",
        [],
        "DnsErrors",
        [],
        None,
    ),
]


def build_corpus(ws) -> None:
    """Services, incidents and reviews of CORPUS, imported the way users import them."""
    for name, domain in (
        ("checkout", "commerce"),
        ("payments", "commerce"),
        ("search", "discovery"),
    ):
        catalog.add_service(ws, ServiceCreate(name=name, domain=domain))
    for day, (key, services, severity, title, summary, tags, alert, actions, remedy) in enumerate(
        CORPUS
    ):
        started = T0 + dt.timedelta(days=day)
        catalog.create_incident(
            ws,
            IncidentCreate(
                key=key,
                title=title,
                severity=Severity(severity),
                services=services,
                started_at=started,
                tags=tags,
            ),
        )
        review = ReviewCreate(
            incident_key=key,
            title=title,
            summary=summary,
            timeline=[
                TimelineEvent(
                    at=started + dt.timedelta(minutes=5), kind="detection", text=f"{alert} fired"
                )
            ],
            alert_notes=[AlertNote(alert=alert, verdict="actionable")],
            contributing_factors=[f"{title} contributing factor"],
            insights=[
                InsightCreate(
                    kind=InsightKind.OBSERVATION, text=f"Observation about {title.lower()}"
                )
            ],
            action_items=[ActionItemCreate(title=t, status=ActionStatus(s)) for t, s in actions],
            signal_blocks=(
                [{"kind": "remediation_label", "incident_key": key, "label": remedy}]
                if remedy
                else []
            ),
        )
        import_parsed_review(ws, ParsedReview(review=review), as_of=started)


@pytest.fixture
def corpus_ws(workspace):
    build_corpus(workspace)
    return workspace


def _incident_order(results) -> list[str]:
    seen: list[str] = []
    for hit in results.hits:
        if hit.incident_key not in seen:
            seen.append(hit.incident_key)
    return seen


def test_search_ranks_snippets_and_facets(corpus_ws) -> None:
    results = knowledge.search_knowledge(corpus_ws, "config push latency", limit=50)
    order = _incident_order(results)
    assert set(order) == {"INC-1", "INC-4"}
    assert results.match == "all"
    assert any("**" in hit.snippet for hit in results.hits)
    facets = dict(results.facets["service"])
    assert facets["payments"] >= 1 and "search" not in facets
    assert "bad config push" in dict(results.facets["failure_mode"])


def test_search_filters_narrow_results(corpus_ws) -> None:
    only_payments = knowledge.search_knowledge(
        corpus_ws, "config", SearchFilters(service=["payments"], entity_type=["review"])
    )
    assert [h.incident_key for h in only_payments.hits] == ["INC-4", "INC-1"] or sorted(
        h.incident_key for h in only_payments.hits
    ) == ["INC-1", "INC-4"]
    assert {h.entity_type for h in only_payments.hits} == {"review"}
    sev1 = knowledge.search_knowledge(corpus_ws, "checkout", SearchFilters(severity=["sev1"]))
    assert {h.incident_key for h in sev1.hits} == {"INC-3"}
    since = knowledge.search_knowledge(
        corpus_ws, "", SearchFilters(since=T0 + dt.timedelta(days=3)), limit=100
    )
    assert {h.incident_key for h in since.hits} == {"INC-4", "INC-5"}
    assert since.hits[0].incident_key == "INC-5"  # empty query: newest first
    mode = knowledge.search_knowledge(corpus_ws, "", SearchFilters(failure_mode=["dns"]))
    assert {h.incident_key for h in mode.hits} == {"INC-5"}


def test_search_falls_back_to_any_term(corpus_ws) -> None:
    results = knowledge.search_knowledge(corpus_ws, "certificate zzzunknownword")
    assert results.match == "any"
    assert _incident_order(results)[0] == "INC-3"


@pytest.mark.parametrize(
    "query",
    [
        '"unbalanced',
        "NEAR(config push)",
        "conf*",
        "-latency",
        "(((",
        "AND OR NOT",
        "title:config",
        "'; DROP TABLE x; --",
        "   ",
        "",
        "the of and",
    ],
)
def test_query_syntax_never_reaches_the_engine(corpus_ws, query: str) -> None:
    results = knowledge.search_knowledge(corpus_ws, query, limit=5)
    assert len(results.hits) <= 5


def test_bad_filters_give_clear_errors(corpus_ws) -> None:
    with pytest.raises(InputError, match="unknown service 'nope'") as caught:
        knowledge.search_knowledge(corpus_ws, "x", SearchFilters(service=["nope"]))
    assert caught.value.field == "service"
    with pytest.raises(InputError, match="severity"):
        knowledge.search_knowledge(corpus_ws, "x", SearchFilters(severity=["SEV9"]))
    with pytest.raises(InputError, match="failure mode"):
        knowledge.search_knowledge(corpus_ws, "x", SearchFilters(failure_mode=["gremlins"]))
    with pytest.raises(InputError, match="limit"):
        knowledge.search_knowledge(corpus_ws, "x", limit=0)


def test_indexing_is_idempotent_and_current(corpus_ws) -> None:
    with corpus_ws.transaction() as session:
        count = session.scalar(select(func.count()).select_from(search_documents))
        again = index_incident(session, "INC-1")
        assert again.written == 0 and again.removed == 0 and again.unchanged > 0
        full = reindex_all(session)
        assert full.written == 0
        assert session.scalar(select(func.count()).select_from(search_documents)) == count
    # 5 incidents + 5 reviews + 5 insights + 5 action items
    assert count == 20
    with pytest.raises(NotFound), corpus_ws.transaction() as session:
        index_incident(session, "INC-404")


def _rich_review(key: str, summary: str) -> ParsedReview:
    """A review using every indexed part, whose front matter creates its incident."""
    review = ReviewCreate(
        incident_key=key,
        title="Queue backlog after broker failover",
        summary=summary,
        impact="Orders were delayed.",
        detection="Customers noticed first.",
        timeline=[TimelineEvent(at=T0, kind="detection", text="Backlog alert fired")],
        decision_points=[DecisionPoint(decision="Drain the queue", alternatives="Scale consumers")],
        alert_notes=[AlertNote(alert="QueueBacklog", verdict="actionable", reason="real")],
        contributing_factors=["Broker failover dropped consumer offsets"],
        went_well=["Rollback was quick"],
        went_wrong=["Runbook was stale"],
        got_lucky=["Low traffic"],
        extra_sections={"Follow-up": "Rehearse failover quarterly"},
        insights=[InsightCreate(kind=InsightKind.OBSERVATION, text="Offsets need a check")],
        action_items=[ActionItemCreate(title="Alert on consumer lag", status="open")],
        signal_blocks=[{"kind": "failure_mode_label", "incident_key": key, "label": "Overload"}],
    )
    return ParsedReview(
        review=review,
        incident={"severity": "SEV2", "services": ["search"], "started_at": T0, "tags": ["kafka"]},
    )


def _nothing_to_reindex(workspace) -> None:
    with workspace.transaction() as session:
        again = reindex_all(session)
    assert (again.written, again.removed) == (0, 0)


def test_import_indexes_what_a_reindex_from_the_database_would(workspace) -> None:
    """Import indexes from the rows it just wrote: a later reindex finds nothing to change.

    Checked after every import: a new review on a new incident, a new review on an incident
    that already has a stored alert, and an update of a review that has an accepted label.
    """
    catalog.add_service(workspace, ServiceCreate(name="search", domain="discovery"))
    first, _ = import_parsed_review(
        workspace, _rich_review("INC-9", "Broker failover."), as_of=T0, create_incident=True
    )
    _nothing_to_reindex(workspace)

    with workspace.transaction() as session:
        incidents.create(
            IncidentCreate(key="INC-10", title="Queue stall", services=["search"], started_at=T0),
            session=session,
            actor="t",
        )
        alerts.upsert(
            AlertCreate(
                fingerprint="fp-10", name="ConsumerLagHigh", starts_at=T0, incident_key="INC-10"
            ),
            session=session,
            actor="t",
        )
    import_parsed_review(workspace, _rich_review("INC-10", "Queue stall."), as_of=T0)
    _nothing_to_reindex(workspace)
    stalled = knowledge.search_knowledge(workspace, "queue stall", limit=5)
    assert dict(stalled.facets["alert"]) == {"ConsumerLagHigh": 2, "QueueBacklog": 2}

    with workspace.transaction() as session:
        accept_failure_mode(session, "INC-9", "dependency", review_id=first.id)
    import_parsed_review(workspace, _rich_review("INC-9", "Broker failover, again."), as_of=T0)
    _nothing_to_reindex(workspace)
    found = knowledge.search_knowledge(workspace, "quarterly rehearse", limit=5)
    assert sorted((h.incident_key, h.entity_type) for h in found.hits) == [
        ("INC-10", "review"),
        ("INC-9", "review"),
    ]
    assert dict(found.facets["failure_mode"]) == {"overload": 2, "dependency": 1}
    assert dict(found.facets["alert"]) == {"QueueBacklog": 2, "ConsumerLagHigh": 1}
    assert list(found.facets) == sorted(found.facets)  # same order on both engines


def test_precedents_for_incident_only_look_back(corpus_ws) -> None:
    found = knowledge.find_precedents(corpus_ws, incident_key="INC-4")
    keys = [p.incident_key for p in found.precedents]
    assert keys[0] == "INC-1"
    assert "INC-5" not in keys  # started later
    top = found.precedents[0]
    assert top.shared_services == ["payments"]
    assert "HighLatencyP99" in top.shared_alerts
    assert "bad config push" in top.shared_failure_modes
    assert {"config", "push"} <= set(top.shared_terms)
    assert top.remediations == ["rollback"] and top.remediation_source == "label"
    assert [(a.title, a.completed) for a in top.actions] == [
        ("Validate config pushes in CI", True),
        ("Add canary for config", False),
    ]
    assert any(reason.startswith("shared services") for reason in top.why)


def test_precedents_for_text_and_bad_input(corpus_ws) -> None:
    found = knowledge.find_precedents(corpus_ws, text="pods OOM killed, memory leak")
    assert found.precedents[0].incident_key == "INC-2"
    assert "memory leak" in found.failure_modes
    with pytest.raises(NotFound, match="unknown incident"):
        knowledge.find_precedents(corpus_ws, incident_key="INC-404")
    with pytest.raises(InputError):
        knowledge.find_precedents(corpus_ws, text="  -- ** ")
    assert knowledge.find_precedents(corpus_ws, incident_key="INC-1").precedents == []


def test_precedents_match_japanese_text_by_character_pairs(workspace) -> None:
    """Japanese has no spaces: a sentence would otherwise be one term matching only itself."""
    with workspace.transaction() as session:
        for number, summary in enumerate(
            [
                "データベースのロック待ちでチェックアウトが停止した。",
                "キャッシュの期限切れで検索が遅くなった。",
                "データベースのロック待ちでチェックアウトが止まった。",
            ],
            start=1,
        ):
            incidents.create(
                IncidentCreate(
                    key=f"JP-{number}",
                    title="障害",
                    started_at=dt.datetime(2026, 1, number, tzinfo=dt.UTC),
                    summary=summary,
                ),
                session=session,
                actor="t",
            )
            index_incident(session, f"JP-{number}")
    found = knowledge.find_precedents(workspace, incident_key="JP-3")
    assert [p.incident_key for p in found.precedents][0] == "JP-1"
    assert {"ロッ", "ック", "ク待", "待ち"} & set(found.precedents[0].shared_terms)
    by_text = knowledge.find_precedents(workspace, text="ロック待ち")
    assert [p.incident_key for p in by_text.precedents][:2] in (["JP-1", "JP-3"], ["JP-3", "JP-1"])


PARITY_QUERIES = [
    "config push latency",
    "certificate expired",
    "memory leak pods",
    "checkout",
    "dns resolver",
    "rolled back config",
]
AMBIGUOUS = {"rolled back config"}  # two near-identical matches: same set, order may differ


def _snapshot(ws) -> list[tuple[str, list[str], set[tuple[str, str]], dict]]:
    out = []
    for query in PARITY_QUERIES:
        results = knowledge.search_knowledge(ws, query, limit=100)
        out.append(
            (
                results.match,
                _incident_order(results),
                {(h.entity_type, h.entity_id) for h in results.hits},
                results.facets,
            )
        )
    return out


def test_same_results_on_both_engines(tmp_path, postgres_server_url) -> None:
    """The same data gives the same incidents, in the same order, on SQLite and PostgreSQL."""
    import uuid

    from sqlalchemy import create_engine, text

    from lessonloop.services.workspace import init_workspace
    from lessonloop.settings import Settings

    if postgres_server_url is None:
        pytest.skip("no PostgreSQL server (set LESSONLOOP_TEST_POSTGRES_URL); required under CI")
    name = f"ll_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    urls = {
        "sqlite": f"sqlite:///{tmp_path / 'parity.db'}",
        "postgresql": postgres_server_url.rsplit("/", 1)[0] + f"/{name}",
    }
    snapshots = {}
    for engine, url in urls.items():
        ws = init_workspace(Settings(home=tmp_path / engine, database_url=url), actor="tester")
        try:
            build_corpus(ws)
            snapshots[engine] = _snapshot(ws)
        finally:
            ws.close()
    for query, lite, pg in zip(
        PARITY_QUERIES, snapshots["sqlite"], snapshots["postgresql"], strict=True
    ):
        if query in AMBIGUOUS:
            assert (lite[0], set(lite[1]), lite[2], lite[3]) == (pg[0], set(pg[1]), pg[2], pg[3])
        else:
            assert lite == pg, query
    assert snapshots["sqlite"][0][1] == ["INC-4", "INC-1"] or snapshots["sqlite"][0][1] == [
        "INC-1",
        "INC-4",
    ]


def test_broad_queries_rank_their_newest_window(corpus_ws, monkeypatch) -> None:
    from lessonloop.knowledge import search as search_module

    everything = knowledge.search_knowledge(corpus_ws, "", limit=100)
    assert everything.total == 20 and not everything.total_is_lower_bound
    monkeypatch.setattr(search_module, "WINDOW", 3)
    capped = knowledge.search_knowledge(corpus_ws, "", limit=100)
    assert capped.total == 3 and capped.total_is_lower_bound
    assert sum(n for _, n in capped.facets["entity_type"]) == 3
    assert {h.incident_key for h in capped.hits} == {"INC-5"}  # indexed last


def test_taxonomy_is_seeded_once_and_exported(corpus_ws) -> None:
    from lessonloop.knowledge import taxonomy
    from lessonloop.storage.dump import export_rows

    with corpus_ws.transaction() as session:
        assert not taxonomy.ensure_seeded(session)  # the first index seeded it
        taxonomy.remove_term(session, "failure_mode", "dns")
    with corpus_ws.transaction() as session:
        assert not taxonomy.ensure_seeded(session)
        values = {t.value for t in taxonomy.list_terms(session, "failure_mode")}
        assert "dns" not in values and "memory leak" in values
        with pytest.raises(InputError, match="unknown taxonomy"):
            taxonomy.list_terms(session, "colours")
        lines = [line for line in export_rows(session) if '"taxonomy_terms"' in line]
    assert any('"memory leak"' in line for line in lines)
    assert not any('"value":"dns"' in line for line in lines)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_postgres_planner_settings_do_not_outlive_the_search(workspace) -> None:
    """Search plans per query with JIT off, then gives the caller's settings back."""
    from sqlalchemy import text

    from lessonloop.knowledge.search import search

    catalog.add_service(workspace, ServiceCreate(name="search", domain="discovery"))
    import_parsed_review(
        workspace, _rich_review("INC-9", "Broker failover."), as_of=T0, create_incident=True
    )
    with workspace.transaction() as session:
        session.execute(text("SELECT set_config('jit', 'on', true)"))
        assert search(session, "broker failover").hits
        assert session.scalar(text("SHOW plan_cache_mode")) == "auto"
        assert session.scalar(text("SHOW jit")) == "on"


def test_only_accepted_labels_reach_the_facets_and_decisions_update_them(workspace) -> None:
    from lessonloop.services import signals as signal_service

    catalog.add_service(workspace, ServiceCreate(name="search", domain="discovery"))
    review, _ = import_parsed_review(
        workspace, _rich_review("INC-9", "Broker failover."), as_of=T0, create_incident=True
    )
    with workspace.transaction() as session:
        proposal_id = propose_failure_mode(session, "INC-9", "dependency", review_id=review.id)

    def modes() -> dict[str, int]:
        found = knowledge.search_knowledge(workspace, "quarterly rehearse")
        return dict(found.facets["failure_mode"])

    assert modes() == {"overload": 1}  # a proposal is not a label yet
    signal_service.accept_signal(workspace, proposal_id)
    assert modes() == {"dependency": 1, "overload": 1}
    signal_service.retire_signal(workspace, proposal_id, "superseded")
    assert modes() == {"overload": 1}
    _nothing_to_reindex(workspace)


def test_a_label_written_as_a_key_is_the_taxonomy_term_it_names(workspace) -> None:
    catalog.add_service(workspace, ServiceCreate(name="search", domain="discovery"))
    parsed = _rich_review("INC-9", "Broker failover.")
    parsed.review.signal_blocks = [
        {"kind": "failure_mode_label", "incident_key": "INC-9", "label": "bad_deploy"},
        {"kind": "failure_mode_label", "incident_key": "INC-9", "label": "Capacity-Exhaustion"},
        {"kind": "failure_mode_label", "incident_key": "INC-9", "label": "broker_split"},
    ]
    import_parsed_review(workspace, parsed, as_of=T0, create_incident=True)
    found = knowledge.search_knowledge(workspace, "quarterly rehearse")
    assert dict(found.facets["failure_mode"]) == {
        "bad deploy": 1,
        "broker_split": 1,  # not a taxonomy term: kept as written (lower case)
        "capacity exhaustion": 1,
    }
    filtered = knowledge.search_knowledge(workspace, "", SearchFilters(failure_mode=["bad deploy"]))
    assert {h.incident_key for h in filtered.hits} == {"INC-9"}
