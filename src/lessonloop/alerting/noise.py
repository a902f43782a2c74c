"""The alert noise and correlation model: a policy that decides, for each alert as it fires,
whether it pages, and a learner that fits the policy to history and human feedback.

The policy has two kinds of rules, both of which Alertmanager can run as they are:

- **Suppressions**: an alert family (``alertname`` and ``service``) during a block of hours of
  the day (UTC) whose firings were almost never followed by an incident. Its alerts go to a
  silent receiver.
- **Inhibitions**: while an alert matching the source is firing (paged or not), an alert
  matching the target does not page: it is a symptom of the same problem. One still firing
  when no source is left pages then.

The learner estimates, for every (family, block of hours), the probability that a firing
belongs to an incident, with shrinkage: the block borrows from its family, the family from the
whole history. Reviewers' feedback enters as pseudo-firings: a ``noise`` verdict or a
suppression rule counts as ``verdict_weight`` firings that no incident followed, an
``actionable`` verdict as that many that one did. Data can overrule a person, and a person can
tip a family the data is unsure about.

A (family, block of hours) is suppressed when that probability is below ``suppress_below``
(default 0.1: fewer than one firing in ten belonged to an incident) with at least
``min_evidence`` real firings (a reviewer's statement moves the estimate but is not
evidence that the alert fires), unless it is *protected*: replaying the training history
with what the learner believed at each moment (the firings before it, the statements made
before it), suppressing it would have left an incident without any page, or it was all the
alerts an incident had, or it is the source of an inhibition (Alertmanager inhibits on every
firing alert, so a silenced source would hold back its targets' pages unseen). Inhibitions are
learned from co-occurrence: the target fired while the source was firing in at least
``min_support`` cases and ``min_confidence`` of the target's firings, and whenever the target
belonged to an incident, the source belonged to the same one (so the incident still pages);
never one that closes a loop of rules. Reviewers' correlation rules are added as given. Last,
the policy replayed on its training history must page for every incident within
``max_added_delay_minutes`` of its first alert, or it is mended (a family protected, a learned
rule dropped) until it does.

Example::

    learner = AlertNoiseLearner()
    policy = learner.fit(firings, incident_of, priors=priors, rules=rules)
    verdicts = policy.decide(new_firings)      # one Verdict(kept, reason) per firing
    config = policy.to_config()                # JSON; AlertPolicy.from_config(config)
"""

from __future__ import annotations

import bisect
import datetime as dt
import math
from collections import Counter, defaultdict
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
    fingerprint: str = ""


@dataclass(frozen=True)
class Prior:
    """A person's statement about some alerts, counted as pseudo-firings.

    ``relevant`` False: the matching alerts are noise (a noise verdict, a suppression rule);
    True: they are actionable. ``hours`` limits it to those UTC hours (a time-of-day rule).
    ``since``: when the team knew it (the learner's replay of the past counts it from then).
    """

    matchers: tuple[Matcher, ...]
    relevant: bool
    hours: frozenset[int] | None = None
    signal_id: int | None = None
    since: dt.datetime | None = None  # when it was said; None: before any alert
    until: dt.datetime | None = None  # it covers alerts that start before this (expiry)

    def covers(self, firing: Firing) -> bool:
        if self.hours is not None and firing.start.hour not in self.hours:
            return False
        if self.until is not None and firing.start >= self.until:
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
        """Alertmanager mutes notifications, not alerts: an alert that started in the muted
        hours but is still firing when they end pages then. A whole-day suppression (a
        silent route) always covers; otherwise the alert must be known to end in time."""
        if family_of(firing.labels) != (self.alertname, self.service):
            return False
        if firing.start.hour not in self.hours:
            return False
        if len(self.hours) == 24:
            return True
        return firing.end is not None and firing.end <= self.muted_until(firing.start)

    def muted_until(self, when: dt.datetime) -> dt.datetime:
        """The end of the muted stretch that contains ``when`` (which must be muted)."""
        hours = set(self.hours)
        edge = when.replace(minute=0, second=0, microsecond=0)
        while edge.hour in hours:
            edge += dt.timedelta(hours=1)
        return edge

    def history_text(self) -> str:
        """``belonged to an incident 1 time in 20 firings``: what the rule was learned from."""
        times = "time" if self.relevant == 1 else "times"
        return f"belonged to an incident {self.relevant} {times} in {self.firings} firings"

    def hour_text(self) -> str:
        """``00-04, 12-16 h UTC``."""
        spans: list[list[int]] = []
        for hour in sorted(self.hours):
            if spans and spans[-1][1] == hour:
                spans[-1][1] = hour + 1
            else:
                spans.append([hour, hour + 1])
        return ", ".join(f"{a:02d}-{b:02d}" for a, b in spans) + " h UTC"

    def matchers(self) -> list[Matcher]:
        """``service=""`` for a family without the label: Alertmanager reads it as absent."""
        return _family_matchers((self.alertname, self.service))


@dataclass(frozen=True)
class Inhibition:
    """While an alert matching ``source`` fires (paged or not), alerts matching ``target``
    do not page."""

    source: tuple[Matcher, ...]
    target: tuple[Matcher, ...]
    support: int
    confidence: float
    signal_id: int | None = None


class _RuleIndex:
    """Which rules a label set is the source and the target of, computed once per label set
    (histories repeat a few hundred label sets many thousand times)."""

    def __init__(self, rules: Sequence[Inhibition]) -> None:
        self.rules = list(rules)
        self._seen: dict[tuple[tuple[str, str], ...], tuple[frozenset[int], frozenset[int]]] = {}

    def roles(self, labels: Mapping[str, str]) -> tuple[frozenset[int], frozenset[int]]:
        key = tuple(sorted(labels.items()))
        found = self._seen.get(key)
        if found is None:
            plain = dict(labels)
            found = (
                frozenset(
                    n for n, r in enumerate(self.rules) if all(m.matches(plain) for m in r.source)
                ),
                frozenset(
                    n for n, r in enumerate(self.rules) if all(m.matches(plain) for m in r.target)
                ),
            )
            self._seen[key] = found
        return found


@dataclass(frozen=True)
class Verdict:
    """What the policy did with one firing, and why (``rule``: the inhibition's index;
    ``paged_at``: a muted alert that outlasted its muted hours pages when they end)."""

    kept: bool
    reason: str = ""
    rule: int | None = None
    paged_at: dt.datetime | None = None  # when it paged, if later than it started


KEPT = Verdict(True)
SUPPRESSED = Verdict(False, "suppressed")


def _suppression_of(rules: Sequence[Suppression], firing: Firing) -> Verdict | None:
    """The verdict of the first suppression of the firing's family whose hours it starts
    in: suppressed, or paged late when it outlasts the muted hours."""
    for rule in rules:
        if firing.start.hour not in rule.hours:
            continue
        if rule.covers(firing):
            return Verdict(
                False,
                f"suppressed: {rule.alertname}/{rule.service or '-'} at "
                f"{rule.hour_text()} {rule.history_text()} (P = {rule.p_relevant:.3f})",
            )
        # muted at first, still firing when the muted hours end: it pages then
        until = rule.muted_until(firing.start)
        return Verdict(
            True, f"paged at {until:%H:%M} UTC, when its muted hours ended", paged_at=until
        )
    return None


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


_MISSING = object()


class _Indexed(ValueError):
    """A problem in one element of a list: ``_read`` names it ``name[n].place``."""

    def __init__(self, number: int, place: str, message: str) -> None:
        super().__init__(message)
        self.number, self.place = number, place


def _items(config: Mapping[str, Any], name: str) -> list[Any]:
    found = config.get(name) or []
    if not isinstance(found, list):
        raise ValueError(f"{name}: expected a list")
    return found


def _read(
    item: Any, name: str, convert: Callable[[Any], Any], where: str, default: Any = _MISSING
) -> Any:
    """``item[name]`` converted, or a ValueError naming ``where.name`` and what is wrong."""
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: expected an object, got {type(item).__name__}")
    if name not in item or item[name] is None:
        if default is _MISSING:
            raise ValueError(f"{where}.{name}: missing")
        return default
    try:
        return convert(item[name])
    except _Indexed as exc:
        inner = f".{exc.place}" if exc.place else ""
        raise ValueError(f"{where}.{name}[{exc.number}]{inner}: {exc}") from None
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{where}.{name}: {exc}") from None


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"expected a finite number, got {value!r}")
    return float(value)


def _whole(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {value!r}")
    return value


def _count(value: Any) -> int:
    return int(_non_negative(_whole(value)))


def _share(value: Any) -> float:
    found = _number(value)
    if not 0 <= found <= 1:
        raise ValueError(f"must lie between 0 and 1, got {found}")
    return found


def _minutes(value: Any) -> float:
    return _non_negative(_number(value))


def _non_negative(found: float) -> float:
    if found < 0:
        raise ValueError(f"must be 0 or more, got {found:g}")
    return found


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected text, got {value!r}")
    return value


def _name(value: Any) -> str:
    found = _text(value)
    if not found.strip():
        raise ValueError("must not be empty")
    return found


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping):
        raise ValueError(f"expected an object, got {type(value).__name__}")
    return dict(value)


def _whole_list(value: Any) -> list[int]:
    if not isinstance(value, list):
        raise ValueError("expected a list of whole numbers")
    return [_whole(v) for v in value]


def _hour_list(value: Any) -> list[int]:
    hours = _whole_list(value)
    if not hours or any(not 0 <= h < 24 for h in hours):
        raise ValueError("hours must be a non-empty list of UTC hours 0-23")
    return hours


def _matcher_list(value: Any) -> tuple[Matcher, ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("expected a non-empty list of matchers")
    out = []
    for n, item in enumerate(value):
        try:
            out.append(Matcher.model_validate(item))
        except ValueError as exc:  # pydantic's ValidationError is one
            errors = getattr(exc, "errors", None)
            problem = errors()[0] if callable(errors) else {"loc": (), "msg": str(exc)}
            place = ".".join(str(p) for p in problem["loc"])
            raise _Indexed(n, place, str(problem["msg"])) from None
    return tuple(out)


def _matcher_dump(matchers: Sequence[Matcher]) -> list[dict[str, str]]:
    return [m.model_dump() for m in matchers]


@dataclass
class AlertPolicy:
    """A fitted policy: suppressions and inhibitions, and how they were chosen."""

    suppressions: list[Suppression] = field(default_factory=list)
    inhibitions: list[Inhibition] = field(default_factory=list)
    threshold: float = 0.0
    inhibit_window_minutes: float = 15.0
    learner: dict[str, Any] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)

    def services(self) -> list[str]:
        """The services whose alerts the policy can silence (suppressed families, and the
        targets of inhibitions that name a service exactly)."""
        found = {s.service for s in self.suppressions}
        for rule in self.inhibitions:
            found |= {m.value for m in rule.target if m.label == "service" and m.op == "="}
        return sorted(found - {""})

    def decide(self, firings: Sequence[Firing]) -> list[Verdict]:
        """One verdict per firing (in the order given). A firing's verdict depends only on
        firings that started no later than the moment it would page (its start, or when
        what held it back stopped)."""
        by_family: defaultdict[Family, list[Suppression]] = defaultdict(list)
        for rule in self.suppressions:
            by_family[(rule.alertname, rule.service)].append(rule)

        def suppression(_index: int, firing: Firing) -> Verdict | None:
            return _suppression_of(by_family.get(family_of(firing.labels), ()), firing)

        def muted_until(firing: Firing, when: dt.datetime) -> dt.datetime | None:
            for rule in by_family.get(family_of(firing.labels), ()):
                if when.hour in rule.hours:
                    return rule.muted_until(when)
            return None

        return _run(
            firings, suppression, self.inhibitions, self.inhibit_window_minutes, muted_until
        )

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
        if not isinstance(config, Mapping):
            raise ValueError(f"policy: expected an object, got {type(config).__name__}")
        if config.get("kind") != "alert_noise_policy":
            raise ValueError("not an alert noise policy (kind must be 'alert_noise_policy')")
        if config.get("format") != FORMAT:
            raise ValueError(f"unsupported alert policy format {config.get('format')!r}")
        suppressions = []
        for n, item in enumerate(_items(config, "suppressions")):
            where = f"suppressions[{n}]"
            hours = tuple(_read(item, "hours", _hour_list, where))
            suppressions.append(
                Suppression(
                    _read(item, "alertname", _name, where),
                    _read(item, "service", _text, where, default=""),
                    hours,
                    _read(item, "p_relevant", _share, where),
                    _read(item, "firings", _count, where),
                    _read(item, "relevant", _count, where),
                    tuple(_read(item, "signal_ids", _whole_list, where, default=[])),
                )
            )
        inhibitions = []
        for n, item in enumerate(_items(config, "inhibitions")):
            where = f"inhibitions[{n}]"
            signal_id = item.get("signal_id") if isinstance(item, Mapping) else None
            inhibitions.append(
                Inhibition(
                    _read(item, "source", _matcher_list, where),
                    _read(item, "target", _matcher_list, where),
                    _read(item, "support", _count, where),
                    _read(item, "confidence", _share, where),
                    None if signal_id is None else _read(item, "signal_id", _whole, where),
                )
            )
        return cls(
            suppressions,
            inhibitions,
            _read(config, "threshold", _number, "policy", default=0.0),
            _read(config, "inhibit_window_minutes", _minutes, "policy", default=15.0),
            _read(config, "learner", _object, "policy", default={}),
            _read(config, "training", _object, "policy", default={}),
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
    - ``min_evidence``: a block is suppressed only with at least this many real firings.
    - ``min_support`` / ``min_confidence`` / ``inhibit_window_minutes``: learned inhibitions.
    - ``max_added_delay_minutes``: on its own training history the policy must page for every
      incident no later than this after the incident's first alert.
    """

    def __init__(
        self,
        *,
        suppress_below: float = 0.1,
        verdict_weight: float = 5.0,
        verdict_cap: float = 10.0,
        family_strength: float = 5.0,
        global_strength: float = 2.0,
        min_evidence: float = 8.0,
        min_support: int = 3,
        min_confidence: float = 0.5,
        inhibit_window_minutes: float = 15.0,
        learn_inhibitions: bool = True,
        max_added_delay_minutes: float = 15.0,
    ) -> None:
        if not 0 < suppress_below < 1:
            raise ValueError("suppress_below must lie strictly between 0 and 1")
        for name, value in (
            ("verdict_weight", verdict_weight),
            ("verdict_cap", verdict_cap),
            ("family_strength", family_strength),
            ("global_strength", global_strength),
            ("min_evidence", min_evidence),
            ("inhibit_window_minutes", inhibit_window_minutes),
            ("max_added_delay_minutes", max_added_delay_minutes),
        ):
            if not math.isfinite(value) or value < 0:
                raise ValueError(f"{name} must be a finite number >= 0")
        if verdict_weight == 0 and verdict_cap > 0:
            raise ValueError(
                "verdict_weight must be above 0 (set verdict_cap 0 to ignore statements)"
            )
        if isinstance(min_support, bool) or not isinstance(min_support, int) or min_support < 1:
            raise ValueError("min_support must be a whole number >= 1")
        if not 0 < min_confidence <= 1:
            raise ValueError("min_confidence must lie in (0, 1]")
        self.suppress_below = suppress_below
        self.verdict_weight = verdict_weight
        self.verdict_cap = verdict_cap
        self.family_strength = family_strength
        self.global_strength = global_strength
        self.min_evidence = min_evidence
        self.min_support = min_support
        self.min_confidence = min_confidence
        self.inhibit_window_minutes = inhibit_window_minutes
        self.learn_inhibitions = learn_inhibitions
        self.max_added_delay_minutes = max_added_delay_minutes

    def params(self) -> dict[str, Any]:
        return {
            "suppress_below": self.suppress_below,
            "verdict_weight": self.verdict_weight,
            "verdict_cap": self.verdict_cap,
            "family_strength": self.family_strength,
            "global_strength": self.global_strength,
            "min_evidence": self.min_evidence,
            "min_support": self.min_support,
            "min_confidence": self.min_confidence,
            "inhibit_window_minutes": self.inhibit_window_minutes,
            "learn_inhibitions": self.learn_inhibitions,
            "max_added_delay_minutes": self.max_added_delay_minutes,
        }

    # -- probabilities -------------------------------------------------------------------

    def _p(self, counts: _Counts, prior: _Counts, key: Key) -> float:
        """P(a firing of ``key`` belongs to an incident). The whole history and the family
        are estimated from real firings; statements enter at the key they are about, so a
        statement about some hours does not leak into the family's other hours."""
        fam = key[0]
        p_all = (counts.total_r + 1.0) / (counts.total_n + 2.0)
        p_fam = (counts.fam_r[fam] + self.global_strength * p_all) / (
            counts.fam_n[fam] + self.global_strength
        )
        n = counts.n[key] + prior.n[key]
        r = counts.r[key] + prior.r[key]
        return (r + self.family_strength * p_fam) / (n + self.family_strength)

    def _said(
        self, firings: Sequence[Firing], priors: Sequence[Prior]
    ) -> list[tuple[Prior, dict[Key, float]]]:
        """Each statement's pseudo-firings per key: weight x the share of the key's training
        firings it covers. Firings are grouped by (key, labels, hour, before/after each
        expiry) first: a history repeats a few hundred label sets many thousand times."""
        expiries = sorted({p.until for p in priors if p.until is not None})
        groups: defaultdict[Key, Counter[tuple[Any, ...]]] = defaultdict(Counter)
        examples: dict[tuple[Any, ...], Firing] = {}
        for firing in firings:
            era = bisect.bisect_right(expiries, firing.start)
            shape = (tuple(sorted(firing.labels.items())), firing.start.hour, era)
            groups[(family_of(firing.labels), _bucket(firing.start))][shape] += 1
            examples.setdefault(shape, firing)
        totals = {key: sum(shapes.values()) for key, shapes in groups.items()}
        out = []
        for prior in priors:
            weights = {}
            for key, shapes in groups.items():
                covered = sum(n for shape, n in shapes.items() if prior.covers(examples[shape]))
                if covered:
                    weights[key] = self.verdict_weight * covered / totals[key]
            out.append((prior, weights))
        return out

    def _pseudo(self, said: Sequence[tuple[Prior, dict[Key, float]]]) -> _Counts:
        """Statements as pseudo-counts; many reviews repeating one statement about a key count
        at most ``verdict_cap`` firings together."""
        totals: defaultdict[tuple[Key, bool], float] = defaultdict(float)
        for prior, weights in said:
            for key, weight in weights.items():
                totals[(key, prior.relevant)] += weight
        pseudo = _Counts()
        for key in {k for k, _ in totals}:
            yes, no = totals[(key, True)], totals[(key, False)]
            if yes + no <= 0:
                continue
            scale = min(1.0, self.verdict_cap / (yes + no))
            pseudo.add(key, True, yes * scale)
            pseudo.add(key, False, no * scale)
        return pseudo

    # -- inhibitions ---------------------------------------------------------------------

    def _learned_inhibitions(
        self,
        firings: Sequence[Firing],
        incident_of: Sequence[str | None],
        given: set[tuple[Family, Family]],
    ) -> list[Inhibition]:
        """Source -> target rules from co-occurrence (strongest first), never one that closes
        a loop with the rules already kept or ``given`` (reviewers' rules between exact
        families)."""
        window = dt.timedelta(minutes=self.inhibit_window_minutes)
        order = sorted(range(len(firings)), key=lambda i: firings[i].start)
        co: defaultdict[tuple[Family, Family], int] = defaultdict(int)
        safe: defaultdict[tuple[Family, Family], int] = defaultdict(int)
        shared: defaultdict[tuple[Family, Family], int] = defaultdict(int)
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
                shared[(source, target)] += int(same and incident_of[index] is not None)
            active.append(index)
        rules = []
        by_support = sorted(co.items(), key=lambda kv: (-kv[1], kv[0]))
        kept: set[tuple[Family, Family]] = set()
        for (source, target), count in by_support:
            confidence = count / seen[target]
            if count < self.min_support or confidence < self.min_confidence:
                continue
            if safe[(source, target)] < count:
                continue  # the target once belonged to an incident the source did not
            if shared[(source, target)] == 0:
                continue  # never seen together in an incident: nothing shows it is safe
            if _reaches(target, source, kept | given):
                continue  # it would close a loop (A holds back B ... holds back A): alerts
                # that start together would silence one another and the incident with them
            kept.add((source, target))
            rules.append(
                Inhibition(
                    tuple(_family_matchers(source)),
                    tuple(_family_matchers(target)),
                    count,
                    confidence,
                )
            )
        return sorted(rules, key=_rule_key)

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
        said = self._said(firings, priors)
        inhibitions: list[Inhibition] = []
        for given_rule in rules:  # the same rule from several reviews is one (the first)
            if _rule_key(given_rule) not in {_rule_key(r) for r in inhibitions}:
                inhibitions.append(given_rule)
        if self.learn_inhibitions:
            known = {_rule_key(r) for r in inhibitions}
            given = _rule_edges(inhibitions, firings)
            inhibitions += [
                r
                for r in self._learned_inhibitions(firings, incident_of, given)
                if _rule_key(r) not in known
            ]
        # What the learner believed at each moment of the training history (the firings and
        # statements before it) decides which families were ever the only way an incident
        # would have paged: those are protected first, before the final policy is built.
        online = self._prequential(firings, keys, incident_of, said)
        protected = self._protected(
            firings,
            keys,
            incident_of,
            online,
            inhibitions,
            set(_inhibiting(keys, firings, inhibitions)),
        )
        counts = _Counts()
        for key, link in zip(keys, incident_of, strict=True):
            counts.add(key, link is not None)
        pseudo = self._pseudo(said)
        noise_said: defaultdict[Key, set[int]] = defaultdict(set)
        for prior, weights in said:
            if not prior.relevant and prior.signal_id is not None:
                for key in weights:
                    noise_said[key].add(prior.signal_id)
        low = {
            key
            for key in counts.n
            if counts.total_r > 0  # no alert ever belonged to an incident: nothing to tell apart
            and self._p(counts, pseudo, key) < self.suppress_below
            and counts.n[key] >= self.min_evidence  # real firings: the history must exist
        }

        def suppressions(inhibiting: Mapping[Key, int]) -> list[Suppression]:
            # An alert that inhibits others must page: silenced, it still inhibits
            # (Alertmanager inhibits on every firing alert), and what it holds back is unseen.
            out = [
                Suppression(
                    key[0][0],
                    key[0][1],
                    _hours_of(key[1]),
                    self._p(counts, pseudo, key),
                    int(counts.n[key]),
                    int(counts.r[key]),
                    tuple(sorted(noise_said.get(key, ()))),
                )
                for key in sorted(low)
                if key not in protected and key not in inhibiting
            ]
            return _merge_days(out)

        # The policy that ships, replayed on its own training history, must page for every
        # incident, and no later than ``max_added_delay_minutes`` after its first alert: for
        # each incident it misses, the first of its alerts that a fix can free pages again
        # (its family is protected, or the learned rule holding it back is dropped), until
        # none is missed. Reviewers' rules stay; what only they hold back is reported.
        by_incident: defaultdict[str, list[int]] = defaultdict(list)
        for i, link in enumerate(incident_of):
            if link is not None:
                by_incident[link].append(i)
        dropped: list[Inhibition] = []
        missed: list[str] = []
        for _ in range(len(counts.n) + len(inhibitions) + 1):
            inhibiting = _inhibiting(keys, firings, inhibitions)
            policy = AlertPolicy(
                suppressions(inhibiting),
                inhibitions,
                self.suppress_below,
                self.inhibit_window_minutes,
            )
            verdicts = policy.decide(firings)
            missed = self._missed(firings, verdicts, by_incident)
            protect: dict[Key, str] = {}
            culprits: set[int] = set()
            for incident in missed:
                pages = [
                    verdicts[i].paged_at or firings[i].start
                    for i in by_incident[incident]
                    if verdicts[i].kept
                ]
                paged = min(pages) if pages else None
                for i in by_incident[incident]:
                    if paged is not None and firings[i].start >= paged:
                        break  # freeing it would not make the incident page any sooner
                    if verdicts[i].kept and verdicts[i].paged_at is None:
                        continue  # paged when it started: too late only for this incident
                    rule = verdicts[i].rule
                    if rule is None and keys[i] not in protected:
                        protect.setdefault(keys[i], incident)
                        break
                    if rule is not None and inhibitions[rule].signal_id is None:
                        culprits.add(rule)
                        break
            if not protect and not culprits:
                break
            protected.update(protect)
            for number in sorted(culprits, reverse=True):
                dropped.append(inhibitions.pop(number))
        linked = [k for k in incident_of if k is not None]
        return AlertPolicy(
            policy.suppressions,
            inhibitions,
            self.suppress_below,
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
                "dropped_inhibitions": [
                    {"source": _matcher_dump(r.source), "target": _matcher_dump(r.target)}
                    for r in dropped
                ],
                # incidents the policy still misses or pages late on its own history: only
                # reviewers' rules hold them back
                "incidents_missed_by_reviewer_rules": missed,
                "protected": [
                    {
                        "alertname": name,
                        "service": service,
                        "hours": list(_hours_of(bucket)),
                        "only_page_of": incident,
                    }
                    for ((name, service), bucket), incident in sorted(protected.items())
                    if ((name, service), bucket) in low
                ]
                + [
                    {
                        "alertname": name,
                        "service": service,
                        "hours": list(_hours_of(bucket)),
                        "inhibits_with_rule": rule,
                    }
                    for ((name, service), bucket), rule in sorted(inhibiting.items())
                    if ((name, service), bucket) not in protected
                    and ((name, service), bucket) in low
                ],
            },
        )

    def _missed(
        self,
        firings: Sequence[Firing],
        verdicts: Sequence[Verdict],
        by_incident: Mapping[str, Sequence[int]],
    ) -> list[str]:
        """Incidents with no page, or whose first page comes more than
        ``max_added_delay_minutes`` after their first alert."""
        late = dt.timedelta(minutes=self.max_added_delay_minutes)
        out = []
        for incident, members in sorted(by_incident.items()):
            first = firings[members[0]].start
            pages = [verdicts[i].paged_at or firings[i].start for i in members if verdicts[i].kept]
            if not pages or min(pages) - first > late:
                out.append(incident)
        return out

    def _prequential(
        self,
        firings: Sequence[Firing],
        keys: Sequence[Key],
        incident_of: Sequence[str | None],
        said: Sequence[tuple[Prior, dict[Key, float]]],
    ) -> list[tuple[float, float]]:
        """(P, evidence) of each firing from the firings before it and the statements made
        before it: what the learner would have believed at that moment."""
        pending = sorted(
            said, key=lambda item: item[0].since or dt.datetime.min.replace(tzinfo=dt.UTC)
        )
        known: list[tuple[Prior, dict[Key, float]]] = []
        pseudo = _Counts()
        counts = _Counts()
        out = []
        for firing, key, link in zip(firings, keys, incident_of, strict=True):
            added = False
            while pending and (pending[0][0].since is None or pending[0][0].since <= firing.start):
                known.append(pending.pop(0))
                added = True
            if added:
                pseudo = self._pseudo(known)
            out.append((self._p(counts, pseudo, key), counts.n[key]))
            counts.add(key, link is not None)
        return out

    def _protected(
        self,
        firings: Sequence[Firing],
        keys: Sequence[Key],
        incident_of: Sequence[str | None],
        online: Sequence[tuple[float, float]],
        inhibitions: Sequence[Inhibition],
        never: set[Key],
    ) -> dict[Key, str]:
        """Keys never to suppress: the only alerts of some incident, and those whose
        suppression, replaying the training history with what the learner believed at each
        moment, would have left an incident without any page. Each with that incident."""
        candidate = [
            p < self.suppress_below and evidence >= self.min_evidence and key not in never
            for (p, evidence), key in zip(online, keys, strict=True)
        ]
        incidents = {k for k in incident_of if k is not None}
        protected: dict[Key, str] = {}
        keys_of: defaultdict[str, set[Key]] = defaultdict(set)
        for key, link in zip(keys, incident_of, strict=True):
            if link is not None:
                keys_of[link].add(key)
        for incident in sorted(keys_of):
            if len(keys_of[incident]) == 1:  # its only alerts: never silence them
                protected.setdefault(next(iter(keys_of[incident])), incident)
        for _ in range(len(incidents) + 1):
            flags = [c and key not in protected for c, key in zip(candidate, keys, strict=True)]
            verdicts = _run(firings, _flagged(flags), inhibitions, self.inhibit_window_minutes)
            covered = {k for k, v in zip(incident_of, verdicts, strict=True) if v.kept and k}
            lost = incidents - covered
            if not lost:
                break
            grown = False
            for flag, key, link in zip(flags, keys, incident_of, strict=True):
                # the incident's first silenced alert pages again: one key per incident
                if flag and link in lost and key not in protected:
                    protected[key] = link
                    lost.discard(link)
                    grown = True
            if not grown:
                break
        return protected


class _Sources:
    """When some alert matching a rule's source is firing: the source firings' intervals in
    start order with their running latest end, and the stretches they cover without a gap,
    so "is one firing at t, and until when without a break" is a binary search. `_run` keeps
    two per rule: every source, and only the sources that do not also match the rule's
    target (an alert matching both sides is not inhibited by another that does too)."""

    def __init__(self, intervals: list[tuple[dt.datetime, dt.datetime, int]]) -> None:
        intervals.sort()
        self.starts = [start for start, _, _ in intervals]
        self.members = [member for _, _, member in intervals]
        self.latest: list[dt.datetime] = []
        for _, until, _ in intervals:
            self.latest.append(max(until, self.latest[-1]) if self.latest else until)
        self.stretch_starts: list[dt.datetime] = []
        self.stretch_ends: list[dt.datetime] = []
        for start, until, _ in intervals:
            if self.stretch_ends and start <= self.stretch_ends[-1]:
                self.stretch_ends[-1] = max(self.stretch_ends[-1], until)
            else:
                self.stretch_starts.append(start)
                self.stretch_ends.append(until)

    def covering(self, when: dt.datetime) -> tuple[dt.datetime, int] | None:
        """(when the sources stop, with no gap from ``when``; one source firing at ``when``)
        if a source is firing at ``when``, else None."""
        at = bisect.bisect_right(self.starts, when) - 1
        if at < 0 or self.latest[at] <= when:
            return None
        # the first interval whose end reaches past ``when`` covers it (the running latest
        # end was at or before ``when`` until then, and it started no later than ``at``)
        first = bisect.bisect_right(self.latest, when)
        stretch = bisect.bisect_right(self.stretch_starts, when) - 1
        return self.stretch_ends[stretch], self.members[first]


def _run(
    firings: Sequence[Firing],
    suppression: Callable[[int, Firing], Verdict | None],
    inhibitions: Sequence[Inhibition],
    window_minutes: float,
    muted_until: Callable[[Firing, dt.datetime], dt.datetime | None] | None = None,
) -> list[Verdict]:
    """Replay firings as Alertmanager would: a suppressed alert does not page; an alert
    matching a rule's target does not page while any alert matching its source is firing
    (paged, suppressed or inhibited alike: Alertmanager inhibits on every firing alert),
    except that an alert matching both sides is not inhibited by another that does too.
    Alerts that start together see each other. An inhibited alert still firing when no
    source is left pages then (``paged_at``), as Alertmanager notifies it once the
    inhibition lifts, unless that moment is in muted hours of its family (``muted_until``:
    the end of the muted stretch a moment falls in), when it pages as they end, if still
    firing and not inhibited again. As a source, an alert fires until its end, else
    ``window_minutes`` after its start; an alert without an end is taken as still firing
    when it could page late."""
    window = dt.timedelta(minutes=window_minutes)
    index = _RuleIndex(inhibitions)
    roles = [index.roles(f.labels) for f in firings]
    intervals: defaultdict[tuple[int, bool], list[tuple[dt.datetime, dt.datetime, int]]]
    intervals = defaultdict(list)
    for i, (firing, (source_of, target_of)) in enumerate(zip(firings, roles, strict=True)):
        span = (firing.start, _firing_until(firing, window), i)
        for rule in source_of:
            intervals[(rule, False)].append(span)
            if rule not in target_of:
                intervals[(rule, True)].append(span)
    sources = {key: _Sources(spans) for key, spans in intervals.items()}
    verdicts: list[Verdict] = [KEPT] * len(firings)
    for i, firing in enumerate(firings):
        verdict = suppression(i, firing)
        if verdict is None or verdict.kept:
            verdict = _inhibited(firing, roles[i], sources, firings, verdict, muted_until)
        verdicts[i] = verdict or KEPT
    return verdicts


def _inhibited(
    firing: Firing,
    role: tuple[frozenset[int], frozenset[int]],
    sources: Mapping[tuple[int, bool], _Sources],
    firings: Sequence[Firing],
    muted: Verdict | None,
    muted_until: Callable[[Firing, dt.datetime], dt.datetime | None] | None,
) -> Verdict | None:
    """The verdict of an alert some source holds back, or ``muted`` when none does."""
    source_of, target_of = role
    lookups = [
        (rule, found)
        for rule in sorted(target_of)
        if (found := sources.get((rule, rule in source_of)))
    ]
    if not lookups:
        return muted
    first: tuple[int, int] | None = None  # (rule, the source alert) holding it back
    # a muted alert is first notified when its muted hours end: inhibition counts from then
    when = muted.paged_at if muted is not None and muted.paged_at else firing.start
    ends = firing.end or dt.datetime.max.replace(tzinfo=dt.UTC)  # no end: still firing
    moved = True
    while moved:  # until a moment nothing holds it back, or it has ended
        moved = False
        for rule, found in lookups:
            covering = found.covering(when)
            if covering is None:
                continue
            until, other = covering
            if first is None:
                first = (rule, other)
            if until > when:
                when, moved = until, True
        if when >= ends:
            break
        if not moved and first is not None and muted_until is not None:
            quiet = muted_until(firing, when)  # the source stopped inside muted hours
            if quiet is not None and quiet > when:
                when, moved = quiet, True
    if first is None:
        return muted
    rule, other = first
    labels = firings[other].labels
    cause = f"inhibited by rule {rule}: {labels.get('alertname', '?')}/{labels.get('service', '-')}"
    if when < ends:
        return Verdict(True, f"{cause} was firing; paged at {when:%H:%M} UTC", rule, when)
    return Verdict(False, f"{cause} was firing", rule)


def _flagged(suppressed: Sequence[bool]) -> Callable[[int, Firing], Verdict | None]:
    def suppression(index: int, _firing: Firing) -> Verdict | None:
        return SUPPRESSED if suppressed[index] else None

    return suppression


def _rule_edges(
    rules: Sequence[Inhibition], firings: Sequence[Firing]
) -> set[tuple[Family, Family]]:
    """(source family, target family) for every pair of families seen in ``firings`` that a
    rule's matchers take in: ``alertname="DBDown"`` -> ``alertname="Latency"`` is an edge
    between those names on every service they fired on."""
    label_sets = {tuple(sorted(f.labels.items())) for f in firings}
    edges: set[tuple[Family, Family]] = set()
    for rule in rules:
        sources, targets = set(), set()
        for labels in label_sets:
            plain = dict(labels)
            if all(m.matches(plain) for m in rule.source):
                sources.add(family_of(plain))
            if all(m.matches(plain) for m in rule.target):
                targets.add(family_of(plain))
        edges |= {(a, b) for a in sources for b in targets if a != b}
    return edges


def _inhibiting(
    keys: Sequence[Key], firings: Sequence[Firing], inhibitions: Sequence[Inhibition]
) -> dict[Key, int]:
    """The keys whose alerts are the source of some rule, each with the first such rule."""
    index = _RuleIndex(inhibitions)
    out: dict[Key, int] = {}
    for firing, key in zip(firings, keys, strict=True):
        source_of, _ = index.roles(firing.labels)
        if source_of and key not in out:
            out[key] = min(source_of)
    return out


def _reaches(start: Family, goal: Family, edges: set[tuple[Family, Family]]) -> bool:
    """Whether ``goal`` can be reached from ``start`` along source -> target edges."""
    following: defaultdict[Family, list[Family]] = defaultdict(list)
    for source, target in edges:
        following[source].append(target)
    seen, stack = {start}, [start]
    while stack:
        node = stack.pop()
        if node == goal:
            return True
        for nxt in following[node]:
            if nxt not in seen:
                seen.add(nxt)
                stack.append(nxt)
    return False


def _rule_key(rule: Inhibition) -> tuple[tuple[tuple[str, str, str], ...], ...]:
    return tuple(
        tuple((m.label, m.op, m.value) for m in side) for side in (rule.source, rule.target)
    )


def _family_matchers(family: Family) -> list[Matcher]:
    """Both labels, always: ``service=""`` matches an alert without the label (as in
    Alertmanager), so a family without a service never silences one with a service."""
    name, service = family
    return [Matcher(label="alertname", value=name), Matcher(label="service", value=service)]


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
