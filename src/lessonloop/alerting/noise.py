"""The alert noise and correlation model: a policy that decides, for each alert as it fires,
whether it pages, and a learner that fits the policy to history and human feedback.

The policy has two kinds of rules, both of which Alertmanager can run as they are:

- **Suppressions**: an alert family (``alertname`` and ``service``) during a block of hours of
  the day (UTC) whose firings were almost never followed by an incident. Its alerts go to a
  silent receiver.
- **Inhibitions**: while an alert matching the source is firing (and paged), an alert matching
  the target does not page: it is a symptom of the same problem.

The learner estimates, for every (family, block of hours), the probability that a firing
belongs to an incident, with shrinkage: the block borrows from its family, the family from the
whole history. Reviewers' feedback enters as pseudo-firings: a ``noise`` verdict or a
suppression rule counts as ``verdict_weight`` firings that no incident followed, an
``actionable`` verdict as that many that one did. Data can overrule a person, and a person can
tip a family the data is unsure about.

The suppression threshold is the operator's trade-off, chosen on the training history only:
the largest threshold at which no incident that paged in training would have lost all its pages
(``max_incident_loss``). Each training alert is judged by the counts of the alerts before it
(prequential), so the choice is not fitted on the very alerts it is tested on. Inhibitions are
learned from co-occurrence: the target fired while the source was firing in at least
``min_support`` cases and ``min_confidence`` of the target's firings, and whenever the target
belonged to an incident, the source belonged to the same one (so the incident still pages).
Reviewers' correlation rules are added as inhibitions as given.

Example::

    learner = AlertNoiseLearner()
    policy = learner.fit(firings, incident_of, priors=priors, rules=rules)
    verdicts = policy.decide(new_firings)      # one Verdict(kept, reason) per firing
    config = policy.to_config()                # JSON; AlertPolicy.from_config(config)
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lessonloop.domain.signals import Matcher

__all__ = [
    "AlertNoiseLearner",
    "AlertPolicy",
    "BUCKET_HOURS",
    "Firing",
    "Inhibition",
    "Prior",
    "Suppression",
    "Verdict",
    "family_of",
]

BUCKET_HOURS = 4  # blocks of the day, UTC: 00-04, 04-08, ... 20-24
BUCKETS = 24 // BUCKET_HOURS
FORMAT = 1

Family = tuple[str, str]  # (alertname, service)
Key = tuple[Family, int]  # (family, block of hours)


@dataclass(frozen=True)
class Firing:
    """One alert firing: when, its labels, and the incident a source linked it to."""

    start: dt.datetime
    end: dt.datetime | None
    labels: Mapping[str, str]
    incident_key: str | None = None


@dataclass(frozen=True)
class Prior:
    """A person's statement about some alerts, counted as pseudo-firings.

    ``relevant`` False: the matching alerts are noise (a noise verdict, a suppression rule);
    True: they are actionable. ``hours`` limits it to those UTC hours (a time-of-day rule).
    """

    matchers: tuple[Matcher, ...]
    relevant: bool
    hours: frozenset[int] | None = None
    signal_id: int | None = None

    def covers(self, firing: Firing) -> bool:
        if self.hours is not None and firing.start.hour not in self.hours:
            return False
        labels = dict(firing.labels)
        return all(m.matches(labels) for m in self.matchers)


@dataclass(frozen=True)
class Suppression:
    """A family's alerts during some hours do not page."""

    alertname: str
    service: str
    hours: tuple[int, ...]  # UTC hours covered; all 24 for the whole day
    p_relevant: float
    firings: int
    relevant: int
    signal_ids: tuple[int, ...] = ()

    def covers(self, firing: Firing) -> bool:
        return family_of(firing.labels) == (self.alertname, self.service) and (
            firing.start.hour in self.hours
        )

    def matchers(self) -> list[Matcher]:
        out = [Matcher(label="alertname", value=self.alertname)]
        if self.service:
            out.append(Matcher(label="service", value=self.service))
        return out


@dataclass(frozen=True)
class Inhibition:
    """While a paging alert matching ``source`` fires, alerts matching ``target`` do not page."""

    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    support: int
    confidence: float
    signal_id: int | None = None

    def is_target(self, labels: Mapping[str, str]) -> bool:
        plain = dict(labels)
        return all(m.matches(plain) for m in self.target)

    def is_source(self, labels: Mapping[str, str]) -> bool:
        plain = dict(labels)
        return all(m.matches(plain) for m in self.source)


@dataclass(frozen=True)
class Verdict:
    """What the policy did with one firing, and why."""

    kept: bool
    reason: str = ""


KEPT = Verdict(True)
SUPPRESSED = Verdict(False, "suppressed")


def family_of(labels: Mapping[str, str]) -> Family:
    """The alert family: its ``alertname`` and ``service`` labels (empty when missing)."""
    return (labels.get("alertname", ""), labels.get("service", ""))


def _bucket(when: dt.datetime) -> int:
    return when.hour // BUCKET_HOURS


def _hours_of(bucket: int) -> tuple[int, ...]:
    return tuple(range(bucket * BUCKET_HOURS, (bucket + 1) * BUCKET_HOURS))


def _firing_until(firing: Firing, window: dt.timedelta) -> dt.datetime:
    """When an alert stops counting as firing: its end, else ``window`` after it started."""
    return firing.end if firing.end is not None else firing.start + window


def _matcher_dump(matchers: Sequence[Matcher]) -> list[dict[str, str]]:
    return [m.model_dump() for m in matchers]


def _matcher_load(items: Any, where: str) -> tuple[Matcher, ...]:
    if not isinstance(items, list) or not items:
        raise ValueError(f"{where}: expected a non-empty list of matchers")
    return tuple(Matcher.model_validate(item) for item in items)


@dataclass
class AlertPolicy:
    """A fitted policy: suppressions and inhibitions, and how they were chosen."""

    suppressions: list[Suppression] = field(default_factory=list)
    inhibitions: list[Inhibition] = field(default_factory=list)
    threshold: float = 0.0
    inhibit_window_minutes: float = 15.0
    learner: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)

    def decide(self, firings: Sequence[Firing]) -> list[Verdict]:
        """One verdict per firing (in the order given); causal: a firing's verdict depends
        only on firings that started before it or at the same time."""
        return _run(firings, self._suppression_of, self.inhibitions, self.inhibit_window_minutes)

    def _suppression_of(self, index: int, firing: Firing) -> Verdict | None:
        for rule in self.suppressions:
            if rule.covers(firing):
                return Verdict(
                    False,
                    f"suppressed: {rule.alertname}/{rule.service or '-'} at "
                    f"{rule.hours[0]:02d}-{rule.hours[-1] + 1:02d} h UTC belonged to an "
                    f"incident {rule.relevant} times in {rule.firings} "
                    f"(P = {rule.p_relevant:.3f})",
                )
        return None

    def to_config(self) -> dict[str, Any]:
        """A JSON-ready description; `from_config` reads it back."""
        return {
            "kind": "alert_noise_policy",
            "format": FORMAT,
            "family_labels": ["alertname", "service"],
            "bucket_hours": BUCKET_HOURS,
            "threshold": self.threshold,
            "inhibit_window_minutes": self.inhibit_window_minutes,
            "suppressions": [
                {
                    "alertname": s.alertname,
                    "service": s.service,
                    "hours": list(s.hours),
                    "p_relevant": round(s.p_relevant, 6),
                    "firings": s.firings,
                    "relevant": s.relevant,
                    "signal_ids": list(s.signal_ids),
                }
                for s in self.suppressions
            ],
            "inhibitions": [
                {
                    "source": _matcher_dump(r.source),
                    "target": _matcher_dump(r.target),
                    "support": r.support,
                    "confidence": round(r.confidence, 6),
                    "signal_id": r.signal_id,
                }
                for r in self.inhibitions
            ],
            "learner": dict(self.learner),
            "training": dict(self.training),
        }

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> AlertPolicy:
        """Read `to_config` output; a clear ValueError naming the element that is wrong."""
        if config.get("kind") != "alert_noise_policy":
            raise ValueError("not an alert noise policy (kind must be 'alert_noise_policy')")
        if config.get("format") != FORMAT:
            raise ValueError(f"unsupported alert policy format {config.get('format')!r}")
        suppressions = []
        for n, item in enumerate(config.get("suppressions") or []):
            try:
                hours = tuple(int(h) for h in item["hours"])
                if not hours or any(not 0 <= h < 24 for h in hours):
                    raise ValueError("hours must be UTC hours 0-23")
                suppressions.append(
                    Suppression(
                        str(item["alertname"]),
                        str(item.get("service", "")),
                        hours,
                        float(item["p_relevant"]),
                        int(item["firings"]),
                        int(item["relevant"]),
                        tuple(int(i) for i in item.get("signal_ids") or []),
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"suppressions[{n}]: {exc}") from exc
        inhibitions = []
        for n, item in enumerate(config.get("inhibitions") or []):
            try:
                inhibitions.append(
                    Inhibition(
                        _matcher_load(item["source"], "source"),
                        _matcher_load(item["target"], "target"),
                        int(item["support"]),
                        float(item["confidence"]),
                        None if item.get("signal_id") is None else int(item["signal_id"]),
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"inhibitions[{n}]: {exc}") from exc
        return cls(
            suppressions,
            inhibitions,
            float(config.get("threshold", 0.0)),
            float(config.get("inhibit_window_minutes", 15.0)),
            dict(config.get("learner") or {}),
            dict(config.get("training") or {}),
        )


@dataclass
class _Counts:
    """Firings and incident-linked firings per key and family, plus reviewers' pseudo-counts."""

    n: defaultdict[Key, float] = field(default_factory=lambda: defaultdict(float))
    r: defaultdict[Key, float] = field(default_factory=lambda: defaultdict(float))
    fam_n: defaultdict[Family, float] = field(default_factory=lambda: defaultdict(float))
    fam_r: defaultdict[Family, float] = field(default_factory=lambda: defaultdict(float))
    total_n: float = 0.0
    total_r: float = 0.0

    def add(self, key: Key, relevant: bool, weight: float = 1.0) -> None:
        self.n[key] += weight
        self.fam_n[key[0]] += weight
        self.total_n += weight
        if relevant:
            self.r[key] += weight
            self.fam_r[key[0]] += weight
            self.total_r += weight


class AlertNoiseLearner:
    """Fits an `AlertPolicy`; every hyper-parameter is set here and recorded in the policy.

    - ``verdict_weight``: pseudo-firings per reviewer statement that covers a family's alerts;
      ``verdict_cap``: at most this many per (family, block of hours), however many reviews
      repeat the statement (the history must be able to overrule them).
    - ``family_strength`` / ``global_strength``: shrinkage of a block towards its family and
      of a family towards the whole history, in firings.
    - ``min_evidence``: a block is suppressed only with at least this many firings (real plus
      reviewers' pseudo-firings).
    - ``max_incident_loss``: share of training incidents that paged and may lose every page.
    - ``thresholds``: the candidate suppression thresholds on P(belongs to an incident).
    - ``min_support`` / ``min_confidence`` / ``inhibit_window_minutes``: learned inhibitions.
    """

    def __init__(
        self,
        *,
        verdict_weight: float = 5.0,
        verdict_cap: float = 10.0,
        family_strength: float = 5.0,
        global_strength: float = 2.0,
        min_evidence: float = 8.0,
        max_incident_loss: float = 0.0,
        thresholds: Sequence[float] = (0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3),
        min_support: int = 3,
        min_confidence: float = 0.5,
        inhibit_window_minutes: float = 15.0,
        learn_inhibitions: bool = True,
    ) -> None:
        if not 0 <= max_incident_loss < 1:
            raise ValueError("max_incident_loss must be in [0, 1)")
        if any(not 0 < t < 1 for t in thresholds):
            raise ValueError("thresholds must lie strictly between 0 and 1")
        for name, value in (
            ("verdict_weight", verdict_weight),
            ("verdict_cap", verdict_cap),
            ("family_strength", family_strength),
            ("global_strength", global_strength),
            ("min_evidence", min_evidence),
            ("inhibit_window_minutes", inhibit_window_minutes),
        ):
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0")
        self.verdict_weight = verdict_weight
        self.verdict_cap = verdict_cap
        self.family_strength = family_strength
        self.global_strength = global_strength
        self.min_evidence = min_evidence
        self.max_incident_loss = max_incident_loss
        self.thresholds = tuple(sorted(thresholds))
        self.min_support = min_support
        self.min_confidence = min_confidence
        self.inhibit_window_minutes = inhibit_window_minutes
        self.learn_inhibitions = learn_inhibitions

    def params(self) -> dict[str, Any]:
        return {
            "verdict_weight": self.verdict_weight,
            "verdict_cap": self.verdict_cap,
            "family_strength": self.family_strength,
            "global_strength": self.global_strength,
            "min_evidence": self.min_evidence,
            "max_incident_loss": self.max_incident_loss,
            "thresholds": list(self.thresholds),
            "min_support": self.min_support,
            "min_confidence": self.min_confidence,
            "inhibit_window_minutes": self.inhibit_window_minutes,
            "learn_inhibitions": self.learn_inhibitions,
        }

    # -- probabilities -------------------------------------------------------------------

    def _p(self, counts: _Counts, prior: _Counts, key: Key) -> float:
        fam = key[0]
        p_all = (counts.total_r + prior.total_r + 1.0) / (counts.total_n + prior.total_n + 2.0)
        fam_n = counts.fam_n[fam] + prior.fam_n[fam]
        fam_r = counts.fam_r[fam] + prior.fam_r[fam]
        p_fam = (fam_r + self.global_strength * p_all) / (fam_n + self.global_strength)
        n = counts.n[key] + prior.n[key]
        r = counts.r[key] + prior.r[key]
        return (r + self.family_strength * p_fam) / (n + self.family_strength)

    def _evidence(self, counts: _Counts, prior: _Counts, key: Key) -> float:
        return counts.n[key] + prior.n[key]

    def _pseudo(
        self, firings: Sequence[Firing], priors: Sequence[Prior]
    ) -> tuple[_Counts, dict[Key, set[int]]]:
        """Reviewers' statements as pseudo-firings per key: weight x the share of the key's
        training firings the statement covers. Also which signals called each key noise."""
        by_key: defaultdict[Key, list[Firing]] = defaultdict(list)
        for firing in firings:
            by_key[(family_of(firing.labels), _bucket(firing.start))].append(firing)
        said: defaultdict[tuple[Key, bool], float] = defaultdict(float)
        sources: defaultdict[Key, set[int]] = defaultdict(set)
        for prior in priors:
            for key, members in by_key.items():
                share = sum(prior.covers(f) for f in members) / len(members)
                if share <= 0:
                    continue
                said[(key, prior.relevant)] += self.verdict_weight * share
                if prior.signal_id is not None and not prior.relevant:
                    sources[key].add(prior.signal_id)
        pseudo = _Counts()
        for key in by_key:
            total = said[(key, True)] + said[(key, False)]
            if total <= 0:
                continue
            # many reviews repeating one statement count at most `verdict_cap` firings
            scale = min(1.0, self.verdict_cap / total)
            pseudo.add(key, True, said[(key, True)] * scale)
            pseudo.add(key, False, said[(key, False)] * scale)
        return pseudo, dict(sources)

    # -- inhibitions ---------------------------------------------------------------------

    def _learned_inhibitions(
        self, firings: Sequence[Firing], incident_of: Sequence[str | None]
    ) -> list[Inhibition]:
        window = dt.timedelta(minutes=self.inhibit_window_minutes)
        order = sorted(range(len(firings)), key=lambda i: firings[i].start)
        co: defaultdict[tuple[Family, Family], int] = defaultdict(int)
        safe: defaultdict[tuple[Family, Family], int] = defaultdict(int)
        seen: defaultdict[Family, int] = defaultdict(int)
        active: list[int] = []
        for index in order:
            firing = firings[index]
            active = [a for a in active if _firing_until(firings[a], window) > firing.start]
            target = family_of(firing.labels)
            seen[target] += 1
            sources: dict[Family, bool] = {}
            for a in active:
                source = family_of(firings[a].labels)
                if source == target:
                    continue
                same = incident_of[index] is None or incident_of[a] == incident_of[index]
                sources[source] = sources.get(source, False) or same
            for source, same in sources.items():
                co[(source, target)] += 1
                safe[(source, target)] += int(same)
            active.append(index)
        rules = []
        for (source, target), count in sorted(co.items()):
            confidence = count / seen[target]
            if count < self.min_support or confidence < self.min_confidence:
                continue
            if safe[(source, target)] < count:
                continue  # the target once belonged to an incident the source did not
            rules.append(
                Inhibition(
                    tuple(_family_matchers(source)),
                    tuple(_family_matchers(target)),
                    count,
                    confidence,
                )
            )
        return rules

    # -- fitting -------------------------------------------------------------------------

    def fit(
        self,
        firings: Sequence[Firing],
        incident_of: Sequence[str | None],
        *,
        priors: Sequence[Prior] = (),
        rules: Sequence[Inhibition] = (),
    ) -> AlertPolicy:
        """Learn from training firings and the incident each belonged to (None: noise)."""
        if len(firings) != len(incident_of):
            raise ValueError("one incident link (or None) is needed per firing")
        order = sorted(range(len(firings)), key=lambda i: firings[i].start)
        firings = [firings[i] for i in order]
        incident_of = [incident_of[i] for i in order]
        keys = [(family_of(f.labels), _bucket(f.start)) for f in firings]
        pseudo, sources = self._pseudo(firings, priors)
        inhibitions = list(rules)
        if self.learn_inhibitions:
            known = {_rule_key(r) for r in inhibitions}
            inhibitions += [
                r
                for r in self._learned_inhibitions(firings, incident_of)
                if _rule_key(r) not in known
            ]
        # prequential probabilities: each firing judged by the firings before it
        counts = _Counts()
        online_p: list[float] = []
        online_evidence: list[float] = []
        for key, link in zip(keys, incident_of, strict=True):
            online_p.append(self._p(counts, pseudo, key))
            online_evidence.append(self._evidence(counts, pseudo, key))
            counts.add(key, link is not None)
        threshold = self._choose_threshold(
            firings, incident_of, online_p, online_evidence, inhibitions
        )
        suppressions = []
        if threshold > 0:
            for key in sorted(counts.n):
                p = self._p(counts, pseudo, key)
                if p < threshold and self._evidence(counts, pseudo, key) >= self.min_evidence:
                    (name, service), bucket = key
                    suppressions.append(
                        Suppression(
                            name,
                            service,
                            _hours_of(bucket),
                            p,
                            int(counts.n[key]),
                            int(counts.r[key]),
                            tuple(sorted(sources.get(key, ()))),
                        )
                    )
        linked = [k for k in incident_of if k is not None]
        return AlertPolicy(
            _merge_days(suppressions),
            inhibitions,
            threshold,
            self.inhibit_window_minutes,
            self.params(),
            {
                "firings": len(firings),
                "linked_firings": len(linked),
                "incidents": len(set(linked)),
                "start": firings[0].start.isoformat() if firings else None,
                "end": firings[-1].start.isoformat() if firings else None,
                "reviewer_statements": len(priors),
                "reviewer_rules": len(rules),
            },
        )

    def _choose_threshold(
        self,
        firings: Sequence[Firing],
        incident_of: Sequence[str | None],
        online_p: Sequence[float],
        online_evidence: Sequence[float],
        inhibitions: Sequence[Inhibition],
    ) -> float:
        """The largest candidate threshold whose prequential policy keeps a page for all but
        ``max_incident_loss`` of the training incidents that paged; 0 when none does."""
        incidents = {k for k in incident_of if k is not None}
        if not incidents:
            return 0.0
        allowed = math.floor(self.max_incident_loss * len(incidents) + 1e-9)
        chosen = 0.0
        for threshold in self.thresholds:
            suppressed = [
                p < threshold and e >= self.min_evidence
                for p, e in zip(online_p, online_evidence, strict=True)
            ]
            verdicts = _run(
                firings,
                _flagged(suppressed),
                inhibitions,
                self.inhibit_window_minutes,
            )
            covered = {k for k, v in zip(incident_of, verdicts, strict=True) if v.kept and k}
            if len(incidents - covered) <= allowed:
                chosen = threshold
            else:
                break
        return chosen


def _inhibition(
    firing: Firing, inhibitions: Sequence[Inhibition], paging: list[tuple[dt.datetime, Firing]]
) -> Verdict | None:
    for number, rule in enumerate(inhibitions):
        if not rule.is_target(firing.labels):
            continue
        for _, source in paging:
            if rule.is_source(source.labels):
                return Verdict(
                    False,
                    f"inhibited by rule {number}: {source.labels.get('alertname', '?')}/"
                    f"{source.labels.get('service', '-')} was already paging",
                )
    return None


def _run(
    firings: Sequence[Firing],
    suppression: Callable[[int, Firing], Verdict | None],
    inhibitions: Sequence[Inhibition],
    window_minutes: float,
) -> list[Verdict]:
    """Replay firings in start order: suppressions first, then inhibition by alerts that are
    paging (kept, and still firing: until their end, else ``window_minutes`` after start)."""
    window = dt.timedelta(minutes=window_minutes)
    order = sorted(range(len(firings)), key=lambda i: firings[i].start)
    verdicts: list[Verdict] = [KEPT] * len(firings)
    paging: list[tuple[dt.datetime, Firing]] = []
    for index in order:
        firing = firings[index]
        paging = [(until, f) for until, f in paging if until > firing.start]
        verdict = suppression(index, firing) or _inhibition(firing, inhibitions, paging) or KEPT
        verdicts[index] = verdict
        if verdict.kept:
            paging.append((_firing_until(firing, window), firing))
    return verdicts


def _flagged(suppressed: Sequence[bool]) -> Callable[[int, Firing], Verdict | None]:
    def suppression(index: int, _firing: Firing) -> Verdict | None:
        return SUPPRESSED if suppressed[index] else None

    return suppression


def _rule_key(rule: Inhibition) -> tuple[tuple[tuple[str, str, str], ...], ...]:
    return tuple(
        tuple((m.label, m.op, m.value) for m in side) for side in (rule.source, rule.target)
    )


def _family_matchers(family: Family) -> list[Matcher]:
    name, service = family
    out = [Matcher(label="alertname", value=name)]
    if service:
        out.append(Matcher(label="service", value=service))
    return out


def _merge_days(suppressions: list[Suppression]) -> list[Suppression]:
    """A family suppressed in several blocks becomes one rule over all their hours."""
    merged: dict[Family, Suppression] = {}
    for s in suppressions:
        family = (s.alertname, s.service)
        if family not in merged:
            merged[family] = s
            continue
        old = merged[family]
        firings, relevant = old.firings + s.firings, old.relevant + s.relevant
        merged[family] = Suppression(
            s.alertname,
            s.service,
            tuple(sorted(set(old.hours) | set(s.hours))),
            max(old.p_relevant, s.p_relevant),
            firings,
            relevant,
            tuple(sorted(set(old.signal_ids) | set(s.signal_ids))),
        )
    return list(merged.values())
