"""Failure-mode taxonomy as data (label -> description + keywords) and its keyword matcher.

Keyword syntax: a plain entry matches a whole word or phrase (case-insensitive); an entry
ending in ``*`` matches any word starting with it (``autoscal*`` matches "autoscaling").
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from lessonloop.errors import InputError

__all__ = ["FailureMode", "Taxonomy", "default_failure_taxonomy"]


@dataclass(frozen=True)
class FailureMode:
    """One label of the taxonomy: what it means and the words that suggest it."""

    label: str
    description: str
    keywords: tuple[str, ...]


def _keyword_pattern(keyword: str) -> str:
    """Regex for one keyword entry (see module docstring for the syntax)."""
    cleaned = keyword.strip().lower()
    if cleaned.endswith("*"):
        return r"\b" + re.escape(cleaned[:-1]) + r"\w*"
    return r"\b" + r"\s+".join(re.escape(part) for part in cleaned.split()) + r"\b"


@dataclass(frozen=True)
class Taxonomy:
    """An ordered set of failure modes; the order fixes column order in every model."""

    modes: tuple[FailureMode, ...]

    def __post_init__(self) -> None:
        labels = [mode.label for mode in self.modes]
        if len(set(labels)) != len(labels):
            raise InputError("taxonomy has duplicate labels", field="labels")
        for mode in self.modes:
            if not mode.label.strip():
                raise InputError("taxonomy label is empty", field="labels")

    @property
    def labels(self) -> tuple[str, ...]:
        """Label names in taxonomy order."""
        return tuple(mode.label for mode in self.modes)

    def mode(self, label: str) -> FailureMode:
        """The failure mode called ``label``."""
        for mode in self.modes:
            if mode.label == label:
                return mode
        raise KeyError(label)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Mapping[str, object]]) -> Taxonomy:
        """Build from ``{label: {"description": str, "keywords": [str, ...]}}``."""
        modes = []
        for label, spec in data.items():
            keywords = spec.get("keywords", [])
            if not isinstance(keywords, Sequence) or isinstance(keywords, str):
                raise InputError("keywords must be a list of strings", field=f"{label}.keywords")
            modes.append(
                FailureMode(
                    label=str(label),
                    description=str(spec.get("description", "")),
                    keywords=tuple(str(k) for k in keywords if str(k).strip()),
                )
            )
        return cls(tuple(modes))

    def to_mapping(self) -> dict[str, dict[str, object]]:
        """The JSON-ready form that ``from_mapping`` reads back."""
        return {
            m.label: {"description": m.description, "keywords": list(m.keywords)}
            for m in self.modes
        }

    def keyword_hits(self, text: str) -> dict[str, list[str]]:
        """For each label, the keyword entries found in ``text`` (each counted once)."""
        lowered = text.lower()
        hits: dict[str, list[str]] = {}
        for mode in self.modes:
            found = [k for k in mode.keywords if re.search(_keyword_pattern(k), lowered)]
            hits[mode.label] = found
        return hits


def default_failure_taxonomy() -> Taxonomy:
    """The seven B2 failure modes, with keywords written from their meaning (not from data)."""
    return Taxonomy.from_mapping(
        {
            "automation": {
                "description": "An automated system (deploy pipeline, script, orchestrator, "
                "autoscaler, scheduled job, self-healing tool) caused or amplified the failure.",
                "keywords": [
                    "automat*",
                    "script*",
                    "pipeline*",
                    "deploy*",
                    "rollout*",
                    "orchestrat*",
                    "autoscal*",
                    "cron",
                    "scheduled job",
                    "bot",
                    "tooling",
                    "terraform",
                    "ansible",
                    "puppet",
                    "chef",
                    "ci",
                    "continuous integration",
                    "self-healing",
                    "auto-remediation",
                    "maintenance job",
                    "batch job",
                    "migration*",
                    "failover*",
                ],
            },
            "cloud": {
                "description": "A failure in, or of, a cloud provider or hosted platform "
                "(regions, zones, managed services, CDN, load balancers).",
                "keywords": [
                    "cloud*",
                    "aws",
                    "amazon web services",
                    "ec2",
                    "s3",
                    "lambda",
                    "gcp",
                    "google cloud",
                    "azure",
                    "region*",
                    "availability zone*",
                    "us-east-1",
                    "heroku",
                    "cdn",
                    "cloudflare",
                    "fastly",
                    "load balanc*",
                    "kubernetes",
                    "gke",
                    "eks",
                    "hosting",
                    "provider*",
                    "saas",
                    "data center*",
                    "datacenter*",
                ],
            },
            "config-change": {
                "description": "A configuration change (settings, flags, rules, routes, "
                "policies, DNS records) pushed to production caused the failure.",
                "keywords": [
                    "config*",
                    "misconfigur*",
                    "setting*",
                    "feature flag*",
                    "flag*",
                    "parameter*",
                    "bad change",
                    "change*",
                    "push*",
                    "dns",
                    "bgp",
                    "rout*",
                    "firewall rule*",
                    "rule*",
                    "policy",
                    "policies",
                    "typo",
                    "wrong value",
                    "update*",
                    "manifest*",
                ],
            },
            "security": {
                "description": "A security event: attack, breach, leaked secret, "
                "vulnerability, unauthorised access or denial of service.",
                "keywords": [
                    "secur*",
                    "attack*",
                    "breach*",
                    "ddos",
                    "denial of service",
                    "vulnerab*",
                    "exploit*",
                    "leak*",
                    "token*",
                    "credential*",
                    "password*",
                    "unauthori*",
                    "malicious",
                    "hack*",
                    "compromis*",
                    "phishing",
                    "malware",
                    "intrusion",
                    "exposed",
                    "encrypt*",
                    "private key*",
                    "cve",
                    "access key*",
                ],
            },
            "cascading-failure": {
                "description": "A failure that spread from one component to others through "
                "dependencies, retries, overload or resource exhaustion.",
                "keywords": [
                    "cascad*",
                    "overload*",
                    "retry storm*",
                    "retries",
                    "thundering herd",
                    "domino",
                    "chain reaction",
                    "knock-on",
                    "spread*",
                    "exhaust*",
                    "saturat*",
                    "backlog*",
                    "queue* backed up",
                    "dependenc*",
                    "downstream",
                    "upstream",
                    "capacity",
                    "load spike",
                    "congest*",
                    "brownout",
                    "feedback loop",
                    "death spiral",
                ],
            },
            "hardware": {
                "description": "Physical hardware or facilities failed: disks, servers, "
                "power, cooling, network equipment, cables.",
                "keywords": [
                    "hardware",
                    "disk*",
                    "drive failure*",
                    "ssd*",
                    "hard drive*",
                    "power",
                    "power outage",
                    "ups",
                    "generator*",
                    "cooling",
                    "overheat*",
                    "rack*",
                    "fiber",
                    "fibre",
                    "cable*",
                    "switch failure",
                    "router*",
                    "network card",
                    "nic",
                    "memory module",
                    "ram",
                    "server failure",
                    "faulty",
                    "physical",
                    "battery",
                    "batteries",
                ],
            },
            "time": {
                "description": "Time and date handling: clocks, leap seconds and years, time "
                "zones, daylight saving, expiring certificates or licences.",
                "keywords": [
                    "clock*",
                    "leap second*",
                    "leap year*",
                    "leap day",
                    "timezone*",
                    "time zone*",
                    "daylight saving*",
                    "dst",
                    "ntp",
                    "date*",
                    "expir*",
                    "expired",
                    "certificate*",
                    "february 29",
                    "feb 29",
                    "y2k",
                    "2038",
                    "midnight",
                    "utc",
                    "timestamp*",
                    "calendar",
                    "new year*",
                ],
            },
        }
    )
