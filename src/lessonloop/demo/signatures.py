"""How each failure mode shows up in the metrics, and how it spreads to calling services."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lessonloop.demo.catalogue import FailureMode
from lessonloop.demo.org import Service

RECOVERY_MINUTES = 6.0
TAIL_MINUTES = 60.0


@dataclass(frozen=True)
class Impact:
    """How strongly and how late one service feels an incident that began elsewhere."""

    service: str
    hop: int
    delay_minutes: float
    attenuation: float


@dataclass(frozen=True)
class Signature:
    """The random draws that fix one incident's shape (shared by planning and final series)."""

    mode: FailureMode
    develop_minutes: float
    period_minutes: float
    scale: float


def propagate(
    origin: str, callers: dict[str, tuple[str, ...]], rng: np.random.Generator
) -> list[Impact]:
    """The origin and the callers (up to two hops) that degrade a few minutes after it."""
    impacts = [Impact(origin, 0, 0.0, 1.0)]
    frontier = [impacts[0]]
    seen = {origin}
    for hop, keep in ((1, 0.85), (2, 0.55)):
        next_frontier = []
        for parent in frontier:
            for caller in callers[parent.service]:
                if caller in seen or rng.random() > keep:
                    continue
                seen.add(caller)
                impact = Impact(
                    caller,
                    hop,
                    round(parent.delay_minutes + float(rng.uniform(2.0, 7.0)), 1),
                    round(parent.attenuation * float(rng.uniform(0.45, 0.7)), 3),
                )
                impacts.append(impact)
                next_frontier.append(impact)
        frontier = next_frontier
    return impacts


def envelope(signature: Signature, tau: np.ndarray) -> np.ndarray:
    """Severity in [0, 1] at ``tau`` minutes after a service starts to degrade."""
    develop = max(signature.develop_minutes, 1.0)
    rise = np.clip(tau / develop, 0.0, 1.0)
    shape = signature.mode.shape
    if shape == "oscillation":
        wave = 0.5 + 0.5 * np.sin(2.0 * np.pi * tau / signature.period_minutes)
        return rise * wave
    if shape == "sawtooth":
        tooth = (tau % signature.period_minutes) / signature.period_minutes
        return rise * (0.25 + 0.75 * tooth)
    return rise


def _pseudo_random(tau: np.ndarray) -> np.ndarray:
    """Uniform-looking values in [0, 1) that depend only on ``tau`` (same sample, same value)."""
    return np.modf(np.abs(np.sin(tau * 12.9898) * 43758.5453))[0]


def apply_signature(
    metrics: dict[str, np.ndarray],
    service: Service,
    impact: Impact,
    signature: Signature,
    tau: np.ndarray,
    mitigation_tau: float | None,
    rng: np.random.Generator,
) -> None:
    """Add one incident's effect to a service's metric slices in place.

    ``tau`` holds the minutes since this service started to degrade for each sample of the
    slices; ``mitigation_tau`` (None while planning) is when the fix lands, after which the
    effect decays within a few minutes.
    """
    active = tau >= 0.0
    env = np.where(active, envelope(signature, np.maximum(tau, 0.0)), 0.0)
    if mitigation_tau is not None:
        env *= np.exp(-np.maximum(tau - mitigation_tau, 0.0) / RECOVERY_MINUTES)
    mode = signature.mode
    strength = impact.attenuation * signature.scale
    jitter = 0.75 + 0.5 * _pseudo_random(tau + 1000.0 * rng.random())
    if mode.shape == "ramp":
        latency_env, error_env = env**2.5, env**4
    else:
        latency_env, error_env = env, env * jitter
    metrics["latency_p99_ms"] *= 1.0 + (mode.latency_x - 1.0) * latency_env * strength
    metrics["error_rate"] += mode.error_add * error_env * strength
    saturation_share = 1.0 if impact.hop == 0 else 0.25
    if service.saturation_resource == "disk":
        saturation_share *= 0.3
    metrics["saturation"] += mode.saturation_add * env * strength * saturation_share
    if "throughput_rps" in metrics:
        metrics["throughput_rps"] *= 1.0 + (mode.throughput_x - 1.0) * env * strength
