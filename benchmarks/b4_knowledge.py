"""B4 (knowledge base): import + redact + index throughput, and search latency at scale.

Part 1 generates ``--reviews`` reviews (with planted e-mails, IPs and tokens), redacts each one
with the workspace's Redactor, and stores it with ``services.reviews.import_parsed_review``
(which creates the incident and indexes it: ``knowledge.index.index_incident``), committing every
``--batch`` reviews. Reported: reviews/s end to end, and the share of time in redaction.

Part 2 measures ``knowledge.search.search`` (ranking, snippets and facet counts, limit 10) at
``--search-reviews`` reviews on SQLite and on PostgreSQL. To get there in minutes, the index
tables are bulk-loaded directly with one generated document per review (the review's whole
text: summary, timeline, factors, insights, action items) plus its facets; that is what the
index would hold for the review document, without the per-entity documents.

The machine's load average (1, 5 and 15 minutes) is recorded at the start and at the end,
since the figures move with whatever else the (shared) machine is doing.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import random
import resource
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, text

from lessonloop.domain.actions import ActionItemCreate
from lessonloop.domain.enums import ActionStatus, InsightKind
from lessonloop.domain.insights import InsightCreate
from lessonloop.domain.reviews import AlertNote, ReviewCreate, TimelineEvent
from lessonloop.domain.services import ServiceCreate
from lessonloop.ingest.review_format import ParsedReview
from lessonloop.knowledge.search import SearchFilters, search
from lessonloop.redact import RedactionPolicy, Redactor
from lessonloop.services import catalog
from lessonloop.services.keys import read_redaction_key
from lessonloop.services.reviews import import_parsed_review
from lessonloop.services.workspace import Workspace, init_workspace
from lessonloop.settings import Settings
from lessonloop.storage.search import search_documents, search_facets

TECH = [
    "latency",
    "timeout",
    "error",
    "disk",
    "memory",
    "leak",
    "cpu",
    "queue",
    "backlog",
    "replica",
    "database",
    "cache",
    "connection",
    "pool",
    "certificate",
    "dns",
    "resolver",
    "deploy",
    "rollback",
    "config",
    "push",
    "canary",
    "flag",
    "kafka",
    "consumer",
    "lag",
    "shard",
    "index",
    "compaction",
    "gc",
    "pause",
    "oom",
    "kernel",
    "network",
    "packet",
    "loss",
    "load",
    "balancer",
    "retry",
    "storm",
    "throttling",
    "quota",
    "autoscaling",
    "node",
    "pod",
    "container",
    "restart",
    "failover",
    "region",
    "zone",
    "upstream",
    "dependency",
    "timeout",
    "p99",
    "saturation",
    "alert",
    "threshold",
    "pager",
    "noise",
    "dashboard",
    "runbook",
    "escalation",
    "customer",
    "checkout",
    "payments",
    "search",
    "login",
    "lock",
    "contention",
    "deadlock",
    "migration",
    "schema",
    "backup",
    "restore",
    "clock",
    "skew",
    "ntp",
]
FAILURES = (
    "bad config push",
    "capacity exhaustion",
    "dependency outage",
    "memory leak",
    "certificate expiry",
    "dns",
    "lock contention",
    "retry storm",
    "hardware",
    "time",
)
SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ner",
    "tas",
    "vo",
    "rel",
    "pin",
    "dra",
    "cu",
    "sho",
    "bex",
    "tor",
    "wil",
    "fam",
    "zen",
    "gri",
    "pla",
    "ust",
    "mor",
]


class TextGenerator:
    """Review-like text: technical words plus a long tail of rare words, Zipf-distributed."""

    def __init__(self, seed: int, rare_words: int = 6000) -> None:
        self.rng = random.Random(seed)
        rare = {
            "".join(self.rng.choice(SYLLABLES) for _ in range(self.rng.randint(2, 4)))
            for _ in range(rare_words)
        }
        self.vocabulary = TECH + sorted(rare)
        self.cumulative = list(
            itertools.accumulate(1.0 / (rank + 1) ** 0.9 for rank in range(len(self.vocabulary)))
        )

    def words(self, n: int) -> list[str]:
        return self.rng.choices(self.vocabulary, cum_weights=self.cumulative, k=n)

    def sentence(self, n: int = 12) -> str:
        return " ".join(self.words(n)).capitalize() + "."

    def secret(self) -> str:
        kind = self.rng.randrange(3)
        if kind == 0:
            return f"oncall{self.rng.randrange(999)}@example.org"
        if kind == 1:
            return "10." + ".".join(str(self.rng.randrange(255)) for _ in range(3))
        return "Bearer " + "".join(self.rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=40))


def make_review(
    gen: TextGenerator, number: int, services: list[str], start: dt.datetime
) -> ParsedReview:
    """One generated review whose front matter creates its incident."""
    key = f"BENCH-{number:06d}"
    started = start + dt.timedelta(minutes=37 * number)
    mode = gen.rng.choice(FAILURES)
    chosen = gen.rng.sample(services, gen.rng.randint(1, 2))
    review = ReviewCreate(
        incident_key=key,
        title=f"{mode} on {chosen[0]}: {' '.join(gen.words(4))}",
        summary=f"{gen.sentence(25)} Paged {gen.secret()}. {gen.sentence(20)}",
        impact=gen.sentence(15),
        timeline=[
            TimelineEvent(
                at=started + dt.timedelta(minutes=5 * i), kind="diagnosis", text=gen.sentence(10)
            )
            for i in range(4)
        ],
        alert_notes=[AlertNote(alert=f"Alert{gen.rng.randrange(50)}", verdict="actionable")],
        contributing_factors=[gen.sentence(12), f"{mode} {gen.sentence(8)}"],
        insights=[
            InsightCreate(kind=InsightKind.OBSERVATION, text=gen.sentence(15)),
            InsightCreate(kind=InsightKind.RECOMMENDATION, text=gen.sentence(12)),
        ],
        action_items=[
            ActionItemCreate(
                title=" ".join(gen.words(6)).capitalize(), status=gen.rng.choice(list(ActionStatus))
            )
        ],
        signal_blocks=[{"kind": "failure_mode_label", "incident_key": key, "label": mode}],
    )
    return ParsedReview(
        review=review,
        incident={
            "severity": f"SEV{gen.rng.randint(1, 4)}",
            "services": chosen,
            "started_at": started,
            "tags": [gen.rng.choice(TECH)],
        },
    )


def _services(ws: Workspace, count: int) -> list[str]:
    names = [f"svc-{i:02d}" for i in range(count)]
    for i, name in enumerate(names):
        catalog.add_service(ws, ServiceCreate(name=name, domain=f"domain-{i % 6}"))
    return names


def import_benchmark(ws: Workspace, reviews: int, batch: int, seed: int) -> dict[str, Any]:
    """Generate, redact and import ``reviews`` reviews; reviews/s and time split."""
    gen = TextGenerator(seed)
    services = _services(ws, 40)
    redactor = Redactor(RedactionPolicy(key=read_redaction_key(ws.settings)))
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    parsed = [make_review(gen, i, services, start) for i in range(reviews)]
    redact_seconds = 0.0
    redactions = 0
    began, cpu_began = time.perf_counter(), time.process_time()
    for offset in range(0, reviews, batch):
        with ws.transaction() as session:
            for item in parsed[offset : offset + batch]:
                tick = time.perf_counter()
                done = redactor.redact_document(item.review.model_dump(mode="json"))
                redactions += sum(done.counts.by_kind.values())
                item.review = ReviewCreate.model_validate(done.document)
                redact_seconds += time.perf_counter() - tick
                import_parsed_review(ws, item, as_of=start, create_incident=True, session=session)
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu_began
    return {
        "cpu_seconds": round(cpu, 2),
        "reviews_per_cpu_second": round(reviews / cpu, 1),
        "reviews": reviews,
        "batch": batch,
        "seconds": round(elapsed, 2),
        "reviews_per_second": round(reviews / elapsed, 1),
        "redaction_share": round(redact_seconds / elapsed, 3),
        "redactions": redactions,
    }


def bulk_load(ws: Workspace, count: int, seed: int) -> float:
    """Insert ``count`` generated review documents and their facets straight into the index."""
    gen = TextGenerator(seed + 1)
    start = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    began = time.perf_counter()
    chunk = 5000
    for offset in range(0, count, chunk):
        docs, facets = [], []
        for i in range(offset, min(offset + chunk, count)):
            mode = gen.rng.choice(FAILURES)
            service = f"svc-{gen.rng.randrange(40):02d}"
            body = " ".join(gen.sentence(gen.rng.randint(10, 25)) for _ in range(10))
            values = {
                "service": [service],
                "domain": [f"domain-{int(service[-2:]) % 6}"],
                "severity": [f"SEV{gen.rng.randint(1, 4)}"],
                "failure_mode": [mode],
                "tag": [gen.rng.choice(TECH)],
                "entity_type": ["review"],
            }
            docs.append(
                {
                    "id": i + 1,
                    "entity_type": "review",
                    "entity_id": f"LOAD-{i:06d}",
                    "incident_key": f"LOAD-{i:06d}",
                    "started_at": start + dt.timedelta(minutes=20 * i),
                    "title": f"{mode} on {service}: {' '.join(gen.words(4))}",
                    "body": body,
                    "facets": values,
                    "content_hash": f"{i:064d}",
                }
            )
            facets.extend(
                {"document_id": i + 1, "facet": f, "value": v}
                for f, vs in values.items()
                for v in vs
            )
        with ws.transaction() as session:
            session.execute(insert(search_documents), docs)
            session.execute(insert(search_facets), facets)
    with ws.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    return time.perf_counter() - began


def latency_benchmark(ws: Workspace, queries: int, seed: int) -> dict[str, Any]:
    """p50/p95 of search() over generated queries (a third with a service filter)."""
    rng = random.Random(seed + 2)
    gen = TextGenerator(seed + 1)
    timings: list[float] = []
    hits = 0
    for i in range(queries):
        words = gen.words(rng.randint(1, 3))
        filters = SearchFilters(service=[f"svc-{rng.randrange(40):02d}"]) if i % 3 == 0 else None
        with ws.transaction() as session:
            tick = time.perf_counter()
            result = search(session, " ".join(words), filters, limit=10)
            timings.append((time.perf_counter() - tick) * 1000)
        hits += bool(result.hits)
    timings.sort()
    return {
        "queries": queries,
        "with_hits": hits,
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(timings[int(0.95 * (len(timings) - 1))], 2),
        "max_ms": round(timings[-1], 2),
    }


def _postgres_database(server_url: str) -> str:
    name = f"ll_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


def _drop_postgres_database(server_url: str, url: str) -> None:
    """Remove the throw-away benchmark database."""
    name = url.rsplit("/", 1)[1]
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


def _loadavg() -> list[float]:
    """The 1, 5 and 15 minute load averages (empty where /proc is missing)."""
    try:
        fields = Path("/proc/loadavg").read_text(encoding="utf-8").split()[:3]
    except OSError:
        return []
    return [float(value) for value in fields]


def main() -> None:
    """Run both parts and write the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reviews", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--search-reviews", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument(
        "--postgres-url",
        default=None,
        help="PostgreSQL server URL; a throw-away database is created on it.",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result: dict[str, Any] = {"benchmark": "b4_knowledge", "loadavg_start": _loadavg()}
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        ws = init_workspace(
            Settings(home=home / "import", database_url=f"sqlite:///{home / 'import.db'}")
        )
        result["import_sqlite"] = import_benchmark(ws, args.reviews, args.batch, args.seed)
        ws.close()
        engines = {"sqlite": f"sqlite:///{home / 'search.db'}"}
        if args.postgres_url:
            engines["postgresql"] = _postgres_database(args.postgres_url)
        for name, url in engines.items():
            ws = init_workspace(Settings(home=home / name, database_url=url))
            _services(ws, 40)
            load = bulk_load(ws, args.search_reviews, args.seed)
            result[f"search_{name}"] = {
                "documents": args.search_reviews,
                "bulk_load_seconds": round(load, 1),
                **latency_benchmark(ws, args.queries, args.seed),
            }
            ws.close()
            if name == "postgresql":
                _drop_postgres_database(args.postgres_url, url)
    result["loadavg_end"] = _loadavg()
    result["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    result["note"] = (
        "import: generated reviews redacted with the workspace Redactor, stored and indexed "
        "by services.reviews.import_parsed_review, one transaction per batch; search at scale "
        "uses bulk-loaded review documents (one per review, the review's whole text) inserted "
        "directly into the index tables; latency is search() with ranking, snippets and facets"
    )
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
