"""The many ways people phrase the same lesson in a review (picked at random, seeded)."""

from __future__ import annotations

import numpy as np

METRIC_WORDS = {
    "latency_p99_ms": ("p99 latency", "ms"),
    "error_rate": ("error rate", ""),
    "saturation": ("saturation", "%"),
    "throughput_rps": ("throughput", "rps"),
}


def pick(rng: np.random.Generator, options: tuple[str, ...] | list[str], **slots: object) -> str:
    """Choose one phrasing and fill its slots."""
    return options[int(rng.integers(0, len(options)))].format(**slots)


def late_threshold(rng: np.random.Generator, **slots: object) -> str:
    """An observation that a fixed threshold paged late."""
    return pick(
        rng,
        (
            "The {threshold} threshold on {service} {metric} paged {delay} minutes after {metric} "
            "left its normal band.",
            "{alert} on {service} only fired {delay} minutes after the first symptom; the "
            "{threshold} threshold is far above where {metric} normally sits.",
            "Our static {threshold} limit for {service} {metric} was too high: we were paged "
            "{delay} min late.",
            "By the time {alert} paged for {service}, {metric} had been out of its usual range for "
            "{delay} minutes.",
        ),
        **slots,
    )


def band_recommendation(rng: np.random.Generator, **slots: object) -> str:
    """A recommendation to replace a fixed threshold."""
    return pick(
        rng,
        (
            "Alert on {service} {metric} leaving its daily band instead of the fixed {threshold} "
            "threshold.",
            "Lower the {service} {metric} threshold to about {suggested} or make it follow "
            "the time of day.",
            "Replace the {threshold} static threshold on {service} {metric} with a seasonal "
            "baseline.",
        ),
        **slots,
    )


def compaction_noise(rng: np.random.Generator) -> str:
    """An observation that compaction disk alerts are noise."""
    return pick(
        rng,
        (
            "Disk alerts on batch hosts during nightly compaction are noise.",
            "DiskSpaceHigh on batch-01 and batch-02 fires almost every night while compaction "
            "runs and nobody acts on it.",
            "The on-call was woken by DiskSpaceHigh on the batch hosts again; compaction fills the "
            "disk every night and then frees it.",
            "Nightly compaction pushes disk usage on batch hosts over 85% for an hour; those pages "
            "are not actionable.",
        ),
    )


def compaction_recommendation(rng: np.random.Generator) -> str:
    """A recommendation to silence compaction noise."""
    return pick(
        rng,
        (
            "Silence DiskSpaceHigh on batch hosts between 01:00 and 04:00 UTC while compaction "
            "runs.",
            "Stop paging on disk usage of batch hosts during the compaction window; alert on "
            "compaction failures instead.",
            "Suppress the batch disk alert while the compaction job is running.",
        ),
    )


def peak_noise(rng: np.random.Generator, **slots: object) -> str:
    """An observation that a latency alert fires at normal daily peaks."""
    return pick(
        rng,
        (
            "{alert} on {service} fires at the afternoon peak most weeks without anything being "
            "wrong.",
            "Latency alerts on {service} at the daily peak are noise; we ack them without looking.",
            "The {threshold} latency threshold on {service} trips on normal busy afternoons.",
        ),
        **slots,
    )


def same_cause(rng: np.random.Generator, **slots: object) -> str:
    """An observation that two alerts fired for one cause."""
    return pick(
        rng,
        (
            "{first} on {first_service} and {second} on {second_service} fired for the same cause.",
            "We got paged twice for one problem: {first} ({first_service}) and {second} "
            "({second_service}).",
            "{second} on {second_service} was a downstream symptom of {first} on {first_service}.",
        ),
        **slots,
    )


def group_recommendation(rng: np.random.Generator, **slots: object) -> str:
    """A recommendation to correlate alerts."""
    return pick(
        rng,
        (
            "Group {first} on {first_service} with {second} on {second_service} into one page.",
            "When {first_service} degrades, inhibit {second} on {second_service}.",
            "Correlate alerts along the {second_service} -> {first_service} dependency so one page "
            "covers both.",
        ),
        **slots,
    )


def missing_metric(rng: np.random.Generator, **slots: object) -> str:
    """An observation that a metric was missing."""
    return pick(
        rng,
        (
            "We had no metric for {metric}.",
            "Nothing told us about {metric}; we only saw the side effects.",
            "{metric_title} is not instrumented on {service}, so we were blind to the cause.",
        ),
        **slots,
    )


def vague(rng: np.random.Generator) -> str:
    """The kind of bullet that says little (reviews have them too)."""
    return pick(
        rng,
        (
            "Monitoring could be better.",
            "We should look at our alerting in general.",
            "Things took longer than they should have.",
            "Communication could have been better.",
        ),
    )


def first_symptom_event(rng: np.random.Generator, shape: str, service: str) -> str:
    """The timeline line where the reviewer says the problem began."""
    options: tuple[str, ...]
    if shape == "ramp":
        options = (
            f"{service} p99 latency and CPU start creeping up",
            f"First sign on the dashboards: {service} latency slowly leaves its band",
            f"{service} starts to degrade slowly",
        )
    elif shape == "oscillation":
        options = (
            f"{service} traffic and latency start to oscillate",
            f"Retries against {service} begin to pile up",
        )
    elif shape == "sawtooth":
        options = (
            f"{service} queries start to stall in waves",
            f"Lock waits on {service} begin; latency spikes repeatedly",
        )
    else:
        options = (
            f"{service} errors and latency jump",
            f"Requests to {service} start failing",
            f"Step change in {service} p99 latency and error rate",
        )
    return pick(rng, options)


def upper_first(text: str) -> str:
    """Capitalise the first letter only (``HTTP`` stays ``HTTP``)."""
    return text[:1].upper() + text[1:]


def times_text(count: int) -> str:
    """``once``, ``twice``, ``3 times``."""
    return {1: "once", 2: "twice"}.get(count, f"{count} times")


def went_well(rng: np.random.Generator) -> str:
    """A bullet for What went well."""
    return pick(
        rng,
        (
            "The rollback path worked first time.",
            "Responders joined the incident channel within minutes.",
            "The runbook for this service was up to date.",
            "Status page updates went out on time.",
        ),
    )


def got_lucky(rng: np.random.Generator) -> str:
    """A bullet for Where we got lucky."""
    return pick(
        rng,
        (
            "It happened outside the busiest hour.",
            "The engineer who wrote the change was still online.",
            "A large customer's batch job was paused that day.",
        ),
    )


def alternatives(mode: str) -> str:
    """The options a responder weighed before the fix that was chosen."""
    return {
        "bad_config_push": "Roll forward with a fix; wait and watch",
        "capacity_exhaustion": "Rate-limit all clients; wait for the peak to pass",
        "dependency_outage": "Wait for the provider; disable the feature",
        "memory_leak": "Scale out to buy time; restart pods on a schedule",
        "certificate_expiry": "Serve the old certificate with a warning; disable TLS checks",
        "dns": "Hard-code addresses in clients; wait for caches to expire",
        "lock_contention": "Fail over to the replica; wait for the job to finish",
        "retry_storm": "Scale out; block the noisiest client",
    }[mode]
