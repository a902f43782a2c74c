"""Normal behaviour of every metric: seasonality, noise, deploy shifts and nightly compaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from lessonloop.demo.org import Service
from lessonloop.demo.timegrid import TimeGrid

SeriesSet = dict[str, dict[str, np.ndarray]]


@dataclass(frozen=True)
class Deploy:
    """A routine release that moved a service's latency or CPU level (not an incident)."""

    service: str
    at: datetime
    latency_factor: float
    cpu_shift: float


@dataclass(frozen=True)
class CompactionWindow:
    """A nightly batch compaction run that fills the batch host's disk for a while (benign)."""

    service: str
    start: datetime
    end: datetime
    peak_percent: float


@dataclass(frozen=True)
class Baseline:
    """The normal series of every service and the benign events that shaped them."""

    series: SeriesSet
    load: np.ndarray
    deploys: list[Deploy]
    compactions: list[CompactionWindow]


def traffic_load(grid: TimeGrid, rng: np.random.Generator) -> np.ndarray:
    """Organisation-wide load, about 1.0 at a normal weekday peak and 0.3 at night."""
    minutes = grid.minutes()
    hour = (minutes / 60.0) % 24.0
    day = (minutes // 1440).astype(np.int64)
    weekday = day % 7
    daily = 0.3 + 0.7 * ((1.0 - np.cos(2 * np.pi * (hour - 4.0) / 24.0)) / 2.0) ** 1.3
    weekly = np.where(weekday == 5, 0.78, np.where(weekday == 6, 0.72, 1.0))
    busy_day = rng.lognormal(0.0, 0.05, size=int(day[-1]) + 1)[day]
    growth = 1.0 + 0.08 * minutes / (365.0 * 1440.0)
    return daily * weekly * busy_day * growth


def _deploy_levels(
    service: Service, grid: TimeGrid, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, list[Deploy]]:
    """Piecewise-constant latency factor and CPU shift from routine weekday releases."""
    latency_level = np.ones(grid.n)
    cpu_level = np.zeros(grid.n)
    deploys: list[Deploy] = []
    if service.batch:
        return latency_level, cpu_level, deploys
    log_level, cpu_shift = 0.0, 0.0
    for week in range(grid.quarters * 13):
        for _ in range(int(rng.poisson(2.5))):
            day = week * 7 + int(rng.integers(0, 5))
            minute = day * 1440 + int(rng.integers(9 * 60, 17 * 60))
            log_level = 0.6 * log_level + float(rng.normal(0.0, 0.06))
            cpu_shift = 0.6 * cpu_shift + float(rng.normal(0.0, 2.0))
            index = int(np.ceil(minute / grid.step_minutes))
            latency_level[index:] = np.exp(log_level)
            cpu_level[index:] = cpu_shift
            deploys.append(
                Deploy(
                    service.name,
                    grid.at(0) + _minutes(minute),
                    round(float(np.exp(log_level)), 4),
                    round(cpu_shift, 2),
                )
            )
    deploys.sort(key=lambda d: d.at)
    return latency_level, cpu_level, deploys


def _minutes(value: float) -> timedelta:
    """A timedelta of ``value`` minutes."""
    return timedelta(minutes=float(value))


def _compaction(
    service: Service, grid: TimeGrid, rng: np.random.Generator
) -> tuple[np.ndarray, list[CompactionWindow]]:
    """Extra disk % during nightly compaction runs on a batch host."""
    extra = np.zeros(grid.n)
    windows: list[CompactionWindow] = []
    minutes = grid.minutes()
    days = grid.n // grid.points_per_day
    heavy = service.name == "compaction"
    for day in range(days):
        if not heavy and day % 7 == 6:
            continue  # the ledger export does not run on Sundays
        start = day * 1440 + 60 + float(rng.uniform(-20, 45))
        duration = float(rng.uniform(70, 150))
        peak = float(rng.uniform(24, 32) if heavy else rng.uniform(17, 32))
        lo = int(np.ceil(start / grid.step_minutes))
        hi = min(grid.n, int(np.ceil((start + duration) / grid.step_minutes)) + 1)
        frac = (minutes[lo:hi] - start) / duration
        ramp = np.clip(np.minimum(frac / 0.4, (1.0 - frac) / 0.15), 0.0, 1.0)
        extra[lo:hi] = peak * ramp
        windows.append(
            CompactionWindow(
                service.name,
                grid.at(0) + _minutes(start),
                grid.at(0) + _minutes(start + duration),
                round(service.saturation_base + peak, 1),
            )
        )
    return extra, windows


def _service_series(
    service: Service, grid: TimeGrid, load: np.ndarray, rng: np.random.Generator
) -> tuple[dict[str, np.ndarray], list[Deploy], list[CompactionWindow]]:
    """All metrics of one service under normal operation."""
    n = grid.n
    own_load = load * rng.lognormal(0.0, 0.03, size=n)
    latency_level, cpu_level, deploys = _deploy_levels(service, grid, rng)
    out: dict[str, np.ndarray] = {}
    spikes = np.where(rng.random(n) < 0.003, rng.uniform(1.3, 2.2, size=n), 1.0)
    latency = service.latency_ms * (1.0 + service.load_latency_gain * own_load**2)
    latency *= latency_level * rng.lognormal(0.0, 0.07, size=n) * spikes
    windows: list[CompactionWindow] = []
    if service.saturation_resource == "disk":
        minutes = grid.minutes()
        fill = 6.0 * ((minutes / (30.0 * 1440.0)) % 1.0)  # slow fill, monthly clean-up
        saturation = service.saturation_base + fill + rng.normal(0.0, 0.3, size=n)
        if service.batch:
            extra, windows = _compaction(service, grid, rng)
            saturation = saturation + extra
            latency *= 1.0 + 0.5 * extra / 30.0
    else:
        saturation = service.saturation_base + service.saturation_load_gain * own_load
        saturation = saturation + cpu_level + rng.normal(0.0, 1.5, size=n)
    errors = service.error_rate * (0.6 + 0.8 * own_load) * rng.gamma(4.0, 0.25, size=n)
    out["latency_p99_ms"] = latency
    out["error_rate"] = errors
    out["saturation"] = saturation
    if "throughput_rps" in service.metrics:
        out["throughput_rps"] = service.rps * own_load * rng.normal(1.0, 0.03, size=n)
    return out, deploys, windows


def baseline_series(grid: TimeGrid, services: tuple[Service, ...], seed: int) -> Baseline:
    """Generate the normal series of every service (each from its own seeded stream)."""
    load = traffic_load(grid, np.random.default_rng([seed, 1]))
    series: SeriesSet = {}
    deploys: list[Deploy] = []
    compactions: list[CompactionWindow] = []
    for number, service in enumerate(services):
        rng = np.random.default_rng([seed, 2, number])
        series[service.name], d, c = _service_series(service, grid, load, rng)
        deploys.extend(d)
        compactions.extend(c)
    return Baseline(series, load, deploys, compactions)


def clip_series(series: SeriesSet) -> None:
    """Keep every metric in its physical range after incidents were added."""
    for metrics in series.values():
        np.clip(metrics["error_rate"], 0.0, 1.0, out=metrics["error_rate"])
        np.clip(metrics["saturation"], 0.0, 99.9, out=metrics["saturation"])
        np.maximum(metrics["latency_p99_ms"], 0.1, out=metrics["latency_p99_ms"])
        if "throughput_rps" in metrics:
            np.maximum(metrics["throughput_rps"], 0.0, out=metrics["throughput_rps"])
