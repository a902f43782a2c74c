"""Incidents: when they start, how they spread, when the static setup notices, when they end."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np

from lessonloop.demo.catalogue import FailureMode, cause_details, failure_modes
from lessonloop.demo.org import Person, Service, callers_of
from lessonloop.demo.rules import Rule, evaluate_rule_on, series_labels
from lessonloop.demo.series import SeriesSet
from lessonloop.demo.signatures import TAIL_MINUTES, Impact, Signature, apply_signature, propagate
from lessonloop.demo.timegrid import TimeGrid

PLANNING_LOOKBACK_MINUTES = 360
PLANNING_HORIZON_MINUTES = 840


@dataclass(frozen=True)
class FirstPage:
    """The first page the static rules sent for an incident."""

    alertname: str
    service: str
    at: datetime


@dataclass
class Incident:
    """One injected incident with its true timing and what the organisation saw."""

    number: int
    key: str
    quarter: int
    signature: Signature
    origin: str
    detail: str
    start: datetime
    impacts: list[Impact]
    first_page: FirstPage | None = None
    customer_at: datetime | None = None
    human_at: datetime | None = None
    detected_at: datetime | None = None
    detection_method: str = "alert"
    acknowledged_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    severity: str = "SEV3"
    responders: list[Person] = field(default_factory=list)

    @property
    def mode(self) -> FailureMode:
        """The failure mode of this incident."""
        return self.signature.mode

    def service_start(self, impact: Impact) -> datetime:
        """When ``impact.service`` started to degrade."""
        return self.start + timedelta(minutes=impact.delay_minutes)

    def service_end(self, impact: Impact) -> datetime:
        """When ``impact.service`` was back to normal (the fix plus a short recovery)."""
        return self.mitigated + timedelta(minutes=impact.delay_minutes / 2 + 15)

    @property
    def mitigated(self) -> datetime:
        """The mitigation time; only known once the incident was resolved."""
        if self.mitigated_at is None:
            raise RuntimeError(f"{self.key} has not been resolved yet")
        return self.mitigated_at


def schedule_incidents(grid: TimeGrid, services: tuple[Service, ...], seed: int) -> list[Incident]:
    """Draw 8-15 incidents per quarter, every failure mode at least once, spaced apart."""
    rng = np.random.default_rng([seed, 3])
    modes = failure_modes()
    details = cause_details()
    callers = callers_of(services)
    planned: list[tuple[datetime, FailureMode]] = []
    for quarter in range(grid.quarters):
        count = int(rng.integers(8, 16))
        picks = list(rng.permutation(len(modes))) + list(rng.integers(0, len(modes), count))
        chosen = [modes[int(i)] for i in picks[:count]]
        slot_days = 91.0 / count
        for slot, mode in enumerate(chosen):
            day = int(quarter * 91 + slot * slot_days + rng.uniform(1.0, max(1.5, slot_days - 1.5)))
            hour = int(rng.integers(mode.hours[0], mode.hours[1]))
            minute = 0 if mode.name == "certificate_expiry" else int(rng.integers(0, 60))
            planned.append((grid.at(0) + timedelta(days=day, hours=hour, minutes=minute), mode))
    planned.sort(key=lambda item: item[0])
    incidents: list[Incident] = []
    per_year: dict[int, int] = {}
    for number, (start, mode) in enumerate(planned):
        per_year[start.year] = per_year.get(start.year, 0) + 1
        origin = str(rng.choice(mode.origins))
        low, high = mode.develop_minutes
        signature = Signature(
            mode,
            float(rng.uniform(low, high)),
            float(rng.uniform(12, 24)),
            float(rng.uniform(0.85, 1.25)),
        )
        incidents.append(
            Incident(
                number=number,
                key=f"INC-{start.year}-{per_year[start.year]:04d}",
                quarter=grid.quarter_of(start),
                signature=signature,
                origin=origin,
                detail=str(rng.choice(details[mode.name])),
                start=start,
                impacts=propagate(origin, callers, rng),
            )
        )
    return incidents


def _impose(
    incident: Incident,
    series: SeriesSet,
    by_name: dict[str, Service],
    grid: TimeGrid,
    lo: int,
    hi: int,
    mitigation: datetime | None,
    seed: int,
    base: int = 0,
) -> dict[str, dict[str, np.ndarray]]:
    """Apply an incident to samples lo..hi of each affected service; returns the slices.

    ``series`` arrays hold grid samples from index ``base`` on (a window copy while planning).
    """
    minutes = np.arange(lo, hi, dtype=np.float64) * grid.step_minutes
    offset = (incident.start - grid.at(0)).total_seconds() / 60.0
    touched: dict[str, dict[str, np.ndarray]] = {}
    for impact in incident.impacts:
        service = by_name[impact.service]
        views = {m: v[lo - base : hi - base] for m, v in series[impact.service].items()}
        tau = minutes - offset - impact.delay_minutes
        mitigation_tau = None
        if mitigation is not None:
            mitigation_tau = (mitigation - incident.start).total_seconds() / 60.0
            mitigation_tau += impact.delay_minutes / 2 - impact.delay_minutes
        rng = np.random.default_rng([seed, 4, incident.number, len(touched)])
        apply_signature(views, service, impact, incident.signature, tau, mitigation_tau, rng)
        touched[impact.service] = views
    return touched


def _first_page(
    incident: Incident,
    windows: SeriesSet,
    baseline: SeriesSet,
    by_name: dict[str, Service],
    rules: list[Rule],
    grid: TimeGrid,
    lo: int,
) -> FirstPage | None:
    """The earliest page any rule fires on the affected services after they degrade."""
    best: FirstPage | None = None
    for impact in incident.impacts:
        service = by_name[impact.service]
        earliest = grid.index_of(incident.service_start(impact))
        for metric, values in windows[impact.service].items():
            labels = series_labels(service, metric)
            for rule in rules:
                if rule.severity != "page" or rule.metric != metric or not rule.selects(labels):
                    continue
                normal = baseline[impact.service][metric]
                for fire, _, _ in evaluate_rule_on(rule, values, grid.step_minutes, lo):
                    if rule.holds(normal[fire - lo]):
                        continue  # it would have fired anyway: not caused by the incident
                    if fire >= earliest and (best is None or grid.at(fire) < best.at):
                        best = FirstPage(rule.alert, service.name, grid.at(fire))
    return best


def resolve_incident(
    incident: Incident,
    series: SeriesSet,
    services: tuple[Service, ...],
    rules: list[Rule],
    people: tuple[Person, ...],
    grid: TimeGrid,
    seed: int,
) -> None:
    """Find when the static setup, a customer or a person noticed; fix times; write the series."""
    by_name = {s.name: s for s in services}
    rng = np.random.default_rng([seed, 5, incident.number])
    start_index = grid.index_of(incident.start)
    lo = max(0, start_index - PLANNING_LOOKBACK_MINUTES // grid.step_minutes)
    hi = min(grid.n, start_index + PLANNING_HORIZON_MINUTES // grid.step_minutes)
    scratch = {
        name: {m: v[lo:hi].copy() for m, v in series[name].items()}
        for name in (i.service for i in incident.impacts)
    }
    normal = {name: {m: v.copy() for m, v in metrics.items()} for name, metrics in scratch.items()}
    windows = _impose(incident, scratch, by_name, grid, lo, hi, None, seed, base=lo)
    incident.first_page = _first_page(incident, windows, normal, by_name, rules, grid, lo)
    mode = incident.mode
    develop = incident.signature.develop_minutes
    if any(by_name[i.service].user_facing for i in incident.impacts):
        lead = develop * (0.75 if mode.shape == "ramp" else 1.0)
        incident.customer_at = incident.start + timedelta(
            minutes=round(lead + float(rng.lognormal(np.log(30.0), 0.5)))
        )
    incident.human_at = incident.start + timedelta(
        minutes=round(0.6 * develop + float(rng.lognormal(np.log(70.0), 0.7)))
    )
    options = [("human", incident.human_at)]
    if incident.customer_at is not None:
        options.append(("customer", incident.customer_at))
    if incident.first_page is not None:
        options.append(("alert", incident.first_page.at))
    method, detected = min(options, key=lambda item: (item[1], item[0]))
    incident.detection_method, incident.detected_at = method, detected
    incident.acknowledged_at = detected + timedelta(minutes=int(rng.integers(1, 10)))
    incident.mitigated_at = incident.acknowledged_at + timedelta(
        minutes=int(rng.integers(*mode.mitigate_minutes))
    )
    incident.resolved_at = incident.mitigated_at + timedelta(
        minutes=int(rng.integers(*mode.resolve_minutes))
    )
    incident.severity = _severity(incident, by_name)
    incident.responders = _responders(incident, by_name, people, rng)
    last_end = max(incident.service_end(i) for i in incident.impacts)
    final_hi = min(grid.n, grid.index_of(last_end + timedelta(minutes=TAIL_MINUTES)))
    _impose(incident, series, by_name, grid, start_index, final_hi, incident.mitigated_at, seed)


def _severity(incident: Incident, by_name: dict[str, Service]) -> str:
    """SEV1..SEV4 from the origin's tier, the duration and who noticed first."""
    level = by_name[incident.origin].tier + 1 + incident.mode.severity_bias
    if (incident.mitigated - incident.start) > timedelta(hours=3):
        level -= 1
    if incident.detection_method == "customer":
        level -= 1
    return f"SEV{min(4, max(1, level))}"


def _responders(
    incident: Incident,
    by_name: dict[str, Service],
    people: tuple[Person, ...],
    rng: np.random.Generator,
) -> list[Person]:
    """The on-call engineer of the origin's team first, then helpers from affected teams."""
    teams = [by_name[incident.origin].team]
    teams += [
        by_name[i.service].team for i in incident.impacts if by_name[i.service].team not in teams
    ]
    chosen: list[Person] = []
    for position, team in enumerate(teams[:3]):
        members = [p for p in people if p.team == team and p not in chosen]
        for _ in range(2 if position == 0 else 1):
            pick = members.pop(int(rng.integers(0, len(members))))
            chosen.append(pick)
    return chosen
