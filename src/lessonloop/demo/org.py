"""The generated organisation's services, teams, people and dependency graph."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

METRICS = ("latency_p99_ms", "error_rate", "saturation", "throughput_rps")


@dataclass(frozen=True)
class Service:
    """One service: who owns it, what it calls and how its metrics normally behave."""

    name: str
    tier: int
    team: str
    owner: str
    domain: str
    host: str
    depends_on: tuple[str, ...]
    saturation_resource: str  # "cpu" or "disk"
    latency_ms: float  # typical off-peak p99 latency
    load_latency_gain: float  # how much p99 grows at the daily peak (x base)
    error_rate: float  # typical error fraction
    rps: float  # typical peak throughput
    saturation_base: float  # % at night
    saturation_load_gain: float  # % added at the daily peak
    user_facing: bool
    batch: bool = False
    metrics: tuple[str, ...] = field(default=METRICS)


@dataclass(frozen=True)
class Person:
    """An engineer on call: a handle used in reviews and a name used in PagerDuty."""

    handle: str
    name: str
    team: str


def build_services() -> tuple[Service, ...]:
    """Return the 13 services of the demo organisation (a DAG: callers depend on callees)."""
    # fmt: off
    rows = [
        # name, tier, team, owner, domain, depends_on, saturation resource,
        # off-peak p99 ms, peak latency gain, error rate, peak rps, saturation %, peak gain %,
        # user facing
        ("dns", 1, "platform", "ines", "network", (), "cpu",
         18.0, 0.5, 0.0015, 9000.0, 12.0, 20.0, False),
        ("edge", 1, "edge", "amara", "network", ("dns", "api-gateway"), "cpu",
         160.0, 0.8, 0.002, 5200.0, 18.0, 35.0, True),
        ("api-gateway", 1, "edge", "amara", "network",
         ("dns", "auth", "checkout", "search", "catalog"), "cpu",
         210.0, 0.9, 0.002, 4800.0, 20.0, 38.0, True),
        ("auth", 1, "identity", "kenji", "identity", ("db", "cache"), "cpu",
         95.0, 0.9, 0.001, 2600.0, 15.0, 30.0, True),
        ("checkout", 1, "payments", "sofia", "commerce", ("payments", "catalog", "cache", "queue"),
         "cpu", 320.0, 1.05, 0.003, 420.0, 22.0, 40.0, True),
        ("payments", 1, "payments", "sofia", "commerce", ("db", "queue"), "cpu",
         420.0, 0.8, 0.004, 260.0, 16.0, 30.0, True),
        ("search", 2, "discovery", "mateo", "commerce", ("catalog", "cache"), "cpu",
         240.0, 1.1, 0.002, 1900.0, 25.0, 42.0, True),
        ("catalog", 2, "discovery", "mateo", "commerce", ("db", "cache"), "cpu",
         120.0, 0.8, 0.0015, 3100.0, 20.0, 36.0, False),
        ("db", 1, "data", "priya", "data", (), "disk",
         25.0, 0.9, 0.0005, 7400.0, 58.0, 3.0, False),
        ("cache", 2, "platform", "ines", "data", (), "cpu",
         4.0, 0.6, 0.0003, 21000.0, 10.0, 25.0, False),
        ("queue", 2, "platform", "ines", "data", ("db",), "cpu",
         35.0, 0.7, 0.0008, 1500.0, 14.0, 28.0, False),
    ]
    batch_rows = [
        ("compaction", "data", "priya", ("db", "queue"), "batch-01", 900.0, 61.0),
        ("ledger-export", "payments", "sofia", ("db", "payments"), "batch-02", 1300.0, 57.0),
    ]
    # fmt: on
    services = [
        Service(
            name,
            tier,
            team,
            owner,
            domain,
            f"{name}-01",
            deps,
            resource,
            latency,
            gain,
            errors,
            rps,
            sat,
            sat_gain,
            facing,
        )
        for (
            name,
            tier,
            team,
            owner,
            domain,
            deps,
            resource,
            latency,
            gain,
            errors,
            rps,
            sat,
            sat_gain,
            facing,
        ) in rows
    ]
    services += [
        Service(
            name,
            3,
            team,
            owner,
            "batch",
            host,
            deps,
            "disk",
            latency,
            0.2,
            0.001,
            0.0,
            sat,
            2.0,
            False,
            batch=True,
            metrics=("latency_p99_ms", "error_rate", "saturation"),
        )
        for name, team, owner, deps, host, latency, sat in batch_rows
    ]
    return tuple(services)


def build_people() -> tuple[Person, ...]:
    """Return the engineers who take part in incidents, three or four per team."""
    roster = {
        "platform": [("ines", "Ines Duarte"), ("tomas", "Tomas Berg"), ("lena", "Lena Vogt")],
        "edge": [("amara", "Amara Okafor"), ("yusuf", "Yusuf Demir"), ("hana", "Hana Kim")],
        "identity": [
            ("kenji", "Kenji Watanabe"),
            ("rosa", "Rosa Lindqvist"),
            ("ali", "Ali Haddad"),
        ],
        "payments": [
            ("sofia", "Sofia Marino"),
            ("david", "David Cohen"),
            ("mei", "Mei Tanaka"),
            ("oscar", "Oscar Nilsson"),
        ],
        "discovery": [("mateo", "Mateo Alvarez"), ("nora", "Nora Brennan"), ("ravi", "Ravi Iyer")],
        "data": [("priya", "Priya Raman"), ("jonas", "Jonas Weber"), ("chloe", "Chloe Martin")],
    }
    return tuple(Person(h, n, team) for team, people in roster.items() for h, n in people)


def callers_of(services: tuple[Service, ...]) -> dict[str, tuple[str, ...]]:
    """Map each service to the services that call it (the reverse of depends_on)."""
    callers: dict[str, list[str]] = {s.name: [] for s in services}
    for s in services:
        for dep in s.depends_on:
            callers[dep].append(s.name)
    return {name: tuple(sorted(c)) for name, c in callers.items()}


def topological_order(services: tuple[Service, ...]) -> list[str]:
    """Return service names callees first; raises ValueError on a cycle."""
    deps = {s.name: set(s.depends_on) for s in services}
    order: list[str] = []
    while deps:
        ready = sorted(n for n, d in deps.items() if not d - set(order))
        if not ready:
            raise ValueError("dependency cycle among " + ", ".join(sorted(deps)))
        order.extend(ready)
        for n in ready:
            del deps[n]
    return order


def write_services_yaml(path: Path, services: tuple[Service, ...]) -> None:
    """Write services.yaml: the service catalogue a user would register."""
    doc = {
        "services": [
            {
                "name": s.name,
                "tier": s.tier,
                "team": s.team,
                "owner": s.owner,
                "domain": s.domain,
                "host": s.host,
                "saturation_resource": s.saturation_resource,
                "metrics": list(s.metrics),
                "depends_on": list(s.depends_on),
            }
            for s in services
        ]
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False, width=100), encoding="utf-8")
