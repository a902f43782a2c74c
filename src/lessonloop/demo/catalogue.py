"""The catalogue of failure modes the demo injects, each with its metric signature."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FailureMode:
    """A kind of failure: where it starts, how it looks in the metrics, how it is fixed.

    Effects are the peak change once the shape is fully developed: ``latency_x`` multiplies
    p99 latency, ``error_add`` adds to the error fraction, ``saturation_add`` adds percentage
    points, ``throughput_x`` multiplies throughput. ``develop_minutes`` is how long the shape
    takes to reach its peak (0 for a step).
    """

    name: str
    label: str
    shape: str  # step | ramp | burst | oscillation | sawtooth
    origins: tuple[str, ...]
    latency_x: float
    error_add: float
    saturation_add: float
    throughput_x: float
    develop_minutes: tuple[int, int]
    mitigate_minutes: tuple[int, int]
    resolve_minutes: tuple[int, int]
    hours: tuple[int, int]  # UTC hour range in which it tends to start
    tags: tuple[str, ...]
    missing_metric: str
    cause: str
    remediation: str
    severity_bias: int  # 0 = as the tier says, 1 = one level milder


def failure_modes() -> tuple[FailureMode, ...]:
    """Return the eight failure modes, in a fixed order."""
    return (
        FailureMode(
            "bad_config_push",
            "bad config push",
            "step",
            ("checkout", "payments", "search", "api-gateway", "auth", "catalog"),
            latency_x=3.2,
            error_add=0.12,
            saturation_add=8.0,
            throughput_x=0.95,
            develop_minutes=(0, 2),
            mitigate_minutes=(12, 45),
            resolve_minutes=(40, 240),
            hours=(9, 17),
            tags=("config", "change"),
            missing_metric="config rollout status",
            cause="a configuration change with a wrong {what} was pushed to all {service} pods",
            remediation="rolled back the config push",
            severity_bias=0,
        ),
        FailureMode(
            "capacity_exhaustion",
            "capacity exhaustion",
            "ramp",
            ("search", "catalog", "checkout", "api-gateway", "db"),
            latency_x=3.0,
            error_add=0.05,
            saturation_add=38.0,
            throughput_x=1.35,
            develop_minutes=(60, 150),
            mitigate_minutes=(20, 60),
            resolve_minutes=(120, 600),
            hours=(12, 18),
            tags=("capacity", "saturation"),
            missing_metric="request queue depth",
            cause="traffic grew past what the {service} fleet could serve after {what}",
            remediation="scaled out the fleet and shed low-priority traffic",
            severity_bias=0,
        ),
        FailureMode(
            "dependency_outage",
            "dependency outage",
            "step",
            ("payments", "auth", "search"),
            latency_x=2.4,
            error_add=0.25,
            saturation_add=4.0,
            throughput_x=0.9,
            develop_minutes=(0, 4),
            mitigate_minutes=(20, 90),
            resolve_minutes=(60, 360),
            hours=(0, 24),
            tags=("dependency", "third-party"),
            missing_metric="per-dependency error rate",
            cause="the external {what} that {service} calls started failing",
            remediation="failed over to the secondary provider",
            severity_bias=0,
        ),
        FailureMode(
            "memory_leak",
            "memory leak",
            "ramp",
            ("checkout", "search", "catalog", "auth", "api-gateway", "payments"),
            latency_x=3.4,
            error_add=0.06,
            saturation_add=45.0,
            throughput_x=0.97,
            develop_minutes=(180, 420),
            mitigate_minutes=(15, 45),
            resolve_minutes=(240, 1440),
            hours=(7, 16),
            tags=("memory", "leak", "deploy"),
            missing_metric="heap usage",
            cause="a release of {service} leaked {what} on every request",
            remediation="restarted the pods and rolled back the release",
            severity_bias=1,
        ),
        FailureMode(
            "certificate_expiry",
            "certificate expiry",
            "burst",
            ("edge", "auth", "api-gateway", "payments"),
            latency_x=1.6,
            error_add=0.55,
            saturation_add=0.0,
            throughput_x=0.8,
            develop_minutes=(0, 1),
            mitigate_minutes=(25, 80),
            resolve_minutes=(60, 240),
            hours=(0, 1),
            tags=("certificate", "tls"),
            missing_metric="certificate days to expiry",
            cause="the TLS certificate for {what} on {service} expired",
            remediation="issued and deployed a new certificate",
            severity_bias=0,
        ),
        FailureMode(
            "dns",
            "DNS failure",
            "burst",
            ("dns",),
            latency_x=2.2,
            error_add=0.35,
            saturation_add=10.0,
            throughput_x=0.7,
            develop_minutes=(0, 3),
            mitigate_minutes=(15, 60),
            resolve_minutes=(60, 300),
            hours=(0, 24),
            tags=("dns", "network"),
            missing_metric="resolver SERVFAIL rate",
            cause="{service} resolvers returned SERVFAIL after {what}",
            remediation="restored the previous zone and flushed resolver caches",
            severity_bias=0,
        ),
        FailureMode(
            "lock_contention",
            "lock contention",
            "sawtooth",
            ("db",),
            latency_x=4.0,
            error_add=0.04,
            saturation_add=6.0,
            throughput_x=0.85,
            develop_minutes=(10, 40),
            mitigate_minutes=(20, 70),
            resolve_minutes=(120, 720),
            hours=(8, 20),
            tags=("database", "locks"),
            missing_metric="lock wait time",
            cause="{what} on {service} held row locks that blocked the hot path",
            remediation="killed the blocking transaction and added an index",
            severity_bias=1,
        ),
        FailureMode(
            "retry_storm",
            "retry storm",
            "oscillation",
            ("payments", "checkout", "auth", "api-gateway"),
            latency_x=2.8,
            error_add=0.09,
            saturation_add=30.0,
            throughput_x=1.8,
            develop_minutes=(5, 20),
            mitigate_minutes=(20, 80),
            resolve_minutes=(90, 480),
            hours=(10, 20),
            tags=("retries", "overload"),
            missing_metric="client retry rate",
            cause="clients of {service} retried without backoff after {what}",
            remediation="enabled the circuit breaker and capped retries",
            severity_bias=0,
        ),
    )


def cause_details() -> dict[str, tuple[str, ...]]:
    """Return the concrete details that fill the ``{what}`` slot of each mode's cause."""
    return {
        "bad_config_push": (
            "connection pool size",
            "feature flag",
            "timeout value",
            "rate limit",
            "upstream address",
        ),
        "capacity_exhaustion": (
            "a marketing campaign",
            "a partner integration went live",
            "a seasonal sale",
            "a crawler ignored robots.txt",
        ),
        "dependency_outage": (
            "payment provider",
            "identity provider",
            "geo-IP lookup API",
            "fraud scoring API",
        ),
        "memory_leak": (
            "a request cache",
            "HTTP client connections",
            "tracing spans",
            "a metrics label set",
        ),
        "certificate_expiry": (
            "the public endpoint",
            "the internal mTLS listener",
            "the partner API endpoint",
        ),
        "dns": (
            "a zone file change",
            "an upstream resolver outage",
            "a TTL misconfiguration",
        ),
        "lock_contention": (
            "a schema migration",
            "a long-running report query",
            "a bulk backfill job",
        ),
        "retry_storm": ("a brief network blip", "a slow dependency", "a partial deploy"),
    }
