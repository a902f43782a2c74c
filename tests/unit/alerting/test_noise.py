"""The alert noise and correlation model: linking, suppression, inhibition, feedback, replay."""

from __future__ import annotations

import datetime as dt

import pytest

from lessonloop.alerting import (
    AlertNoiseLearner,
    AlertPolicy,
    Firing,
    IncidentSpan,
    Inhibition,
    Prior,
    Suppression,
    link_alerts,
)
from lessonloop.domain.signals import Matcher

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def at(days: float, hour: float = 0.0) -> dt.datetime:
    return T0 + dt.timedelta(days=days, hours=hour)


def firing(
    name: str, service: str, when: dt.datetime, minutes: float = 30, **labels: str
) -> Firing:
    return Firing(
        when,
        when + dt.timedelta(minutes=minutes),
        {"alertname": name, "service": service, **labels},
    )


def family(name: str, service: str = "") -> tuple[Matcher, ...]:
    out = [Matcher(label="alertname", value=name)]
    if service:
        out.append(Matcher(label="service", value=service))
    return tuple(out)


def history(days: int = 40) -> tuple[list[Firing], list[str | None]]:
    """A disk alert that fires every night at 02:00 for nothing, and an error-rate alert that
    fires only with the weekly incidents, followed two minutes later by its symptom."""
    firings: list[Firing] = []
    links: list[str | None] = []
    for day in range(days):
        firings.append(firing("DiskSpaceHigh", "batch", at(day, 2)))
        links.append(None)
        if day % 7 == 3:
            key = f"INC-{day}"
            firings.append(firing("HighErrorRate", "api", at(day, 14)))
            links.append(key)
            firings.append(firing("HighLatency", "web", at(day, 14 + 2 / 60)))
            links.append(key)
    return firings, links


class TestLinking:
    def test_an_alert_belongs_to_the_incident_on_its_service_that_it_overlaps(self) -> None:
        incidents = [
            IncidentSpan("A", at(1, 10), at(1, 12), frozenset({"api"})),
            IncidentSpan(
                "B",
                at(
                    1,
                    10,
                ),
                at(1, 12),
                frozenset({"db"}),
            ),
        ]
        found = link_alerts(
            [
                firing("X", "api", at(1, 9.6)),  # within the 30-minute lead
                firing("X", "db", at(1, 11)),
                firing("X", "web", at(1, 11)),  # no incident on web
                firing("X", "api", at(1, 13)),  # after the end
                Firing(at(1, 11), None, {"alertname": "X"}),  # no service: any overlapping
                Firing(at(5), None, {"alertname": "X", "service": "api"}, incident_key="Z"),
            ],
            incidents,
        )
        assert found == ["A", "B", None, None, "A", "Z"]

    def test_the_nearest_incident_wins_and_an_open_one_lasts_open_for(self) -> None:
        incidents = [
            IncidentSpan("early", at(1, 8), None, frozenset({"api"})),
            IncidentSpan("late", at(1, 11), at(1, 15), frozenset({"api"})),
        ]
        found = link_alerts(
            [
                firing("X", "api", at(1, 10.5)),
                firing("X", "api", at(1, 8.5)),
                firing("X", "api", at(1, 16)),
            ],
            incidents,
            open_for=dt.timedelta(hours=9),
        )
        assert found == ["late", "early", "early"]


class TestSuppression:
    def test_a_family_that_never_led_to_an_incident_is_suppressed_in_its_hours_only(self) -> None:
        firings, links = history()
        policy = AlertNoiseLearner().fit(firings, links)
        assert [(s.alertname, s.service, s.hours) for s in policy.suppressions] == [
            ("DiskSpaceHigh", "batch", (0, 1, 2, 3))
        ]
        later = [
            firing("DiskSpaceHigh", "batch", at(50, 2)),
            firing("DiskSpaceHigh", "batch", at(50, 9)),
            firing("HighErrorRate", "api", at(50, 14)),
        ]
        kept = [v.kept for v in policy.decide(later)]
        assert kept == [False, True, True]
        assert "belonged to an incident 0 times in 40" in policy.decide(later)[0].reason

    def test_a_reviewer_tips_an_unsure_family_but_cannot_replace_its_history(self) -> None:
        verdict = Prior(family("DiskSpaceHigh", "batch"), relevant=False, signal_id=42)
        firings, links = history(days=5)  # five nightly firings: below min_evidence 8
        assert AlertNoiseLearner().fit(firings, links, priors=[verdict]).suppressions == []
        # twenty nights, two of which were also part of an incident that paged a minute later
        # anyway: unsure
        firings, links = history(days=20)
        nights = [i for i, f in enumerate(firings) if f.labels["alertname"] == "DiskSpaceHigh"]
        for night, key in ((3, "INC-N3"), (17, "INC-N17")):
            links[nights[night]] = key
            firings.append(firing("HighErrorRate", "api", at(night, 2 + 1 / 60)))
            links.append(key)
        assert AlertNoiseLearner().fit(firings, links).suppressions == []
        policy = AlertNoiseLearner().fit(firings, links, priors=[verdict])
        assert [(s.alertname, s.relevant, s.signal_ids) for s in policy.suppressions] == [
            ("DiskSpaceHigh", 2, (42,))
        ]

    def test_an_actionable_verdict_raises_the_estimate(self) -> None:
        firings, links = history()
        plain = AlertNoiseLearner().fit(firings, links).suppressions[0]
        vouched = Prior(family("DiskSpaceHigh", "batch"), relevant=True)
        helped = AlertNoiseLearner(verdict_weight=20).fit(firings, links, priors=[vouched])
        assert helped.suppressions == [] or helped.suppressions[0].p_relevant > plain.p_relevant

    def test_a_time_of_day_prior_touches_only_its_hours(self) -> None:
        # the disk alert also fires at 13:00; at both times 2 of 20 firings were incidents
        firings, links = history(days=20)
        nights = [i for i, f in enumerate(firings) if f.labels["alertname"] == "DiskSpaceHigh"]
        for night, key in ((3, "INC-N3"), (10, "INC-N10")):  # incidents that paged anyway
            links[nights[night]] = key
            firings.append(firing("HighErrorRate", "api", at(night, 2 + 1 / 60)))
            links.append(key)
        firings += [firing("DiskSpaceHigh", "batch", at(d, 13)) for d in range(20)]
        links += [f"INC-{d}" if d in (10, 17) else None for d in range(20)]
        assert AlertNoiseLearner().fit(firings, links).suppressions == []
        night = Prior(family("DiskSpaceHigh"), relevant=False, hours=frozenset({1, 2}))
        policy = AlertNoiseLearner().fit(firings, links, priors=[night])
        assert [s.hours for s in policy.suppressions] == [(0, 1, 2, 3)]

    def test_an_alert_that_was_an_incidents_only_page_is_never_silenced(self) -> None:
        # the nightly alert once was the only alert of a real incident
        firings, links = history()
        firings.append(firing("DiskSpaceHigh", "batch", at(45, 2)))
        links.append("INC-disk")
        firings += [firing("DiskSpaceHigh", "batch", at(d, 2)) for d in range(46, 60)]
        links += [None] * 14
        policy = AlertNoiseLearner().fit(firings, links)
        assert policy.suppressions == []
        assert {
            "alertname": "DiskSpaceHigh",
            "service": "batch",
            "hours": [0, 1, 2, 3],
            "only_page_of": "INC-disk",
        } in policy.training["protected"]
        replay = policy.decide(firings)
        assert {k for k, v in zip(links, replay, strict=True) if v.kept and k} == {
            k for k in links if k
        }
        # the same alert at another time of day was never that page: it may be silenced
        firings += [firing("DiskSpaceHigh", "batch", at(d, 9)) for d in range(60)]
        links += [None] * 60
        policy = AlertNoiseLearner().fit(firings, links)
        assert [s.hours for s in policy.suppressions] == [(8, 9, 10, 11)]

    def test_replaying_the_past_protects_alerts_whose_silence_would_have_cost_an_incident(
        self,
    ) -> None:
        # two alerts of one incident, both noisy otherwise: silencing both loses it
        firings, links = [], []
        for day in range(40):
            firings += [firing("A", "x", at(day, 1)), firing("B", "y", at(day, 1.5))]
            links += [None, None]
        firings += [firing("A", "x", at(41, 1)), firing("B", "y", at(41, 1.1))]
        links += ["INC-1", "INC-1"]
        firings += [firing("A", "x", at(d, 1)) for d in range(42, 50)]
        links += [None] * 8
        policy = AlertNoiseLearner(learn_inhibitions=False).fit(firings, links)
        assert [p["only_page_of"] for p in policy.training["protected"]] == ["INC-1"]
        assert len(policy.suppressions) == 1  # one of the two stays

    def test_a_statement_counts_from_when_it_was_made(self) -> None:
        firings, links = history(days=12)
        early = Prior(family("DiskSpaceHigh", "batch"), relevant=False)
        late = Prior(family("DiskSpaceHigh", "batch"), relevant=False, since=at(30))
        learner = AlertNoiseLearner()
        keys = [
            (
                ("DiskSpaceHigh", "batch")
                if f.labels["alertname"] == "DiskSpaceHigh"
                else ("x", "y"),
                f.start.hour // 4,
            )
            for f in firings
        ]
        known_early = learner._prequential(firings, keys, links, learner._said(firings, [early]))
        known_late = learner._prequential(firings, keys, links, learner._said(firings, [late]))
        nothing = learner._prequential(firings, keys, links, [])
        assert known_late == nothing and known_early[0][0] < nothing[0][0]
        # the final policy uses every statement made before the end of training
        assert learner.fit(firings, links, priors=[late]).suppressions

    def test_the_learner_refuses_nonsense_settings(self) -> None:
        for bad in (0.0, 1.0):
            with pytest.raises(ValueError, match="suppress_below"):
                AlertNoiseLearner(suppress_below=bad)
        with pytest.raises(ValueError, match="verdict_weight"):
            AlertNoiseLearner(verdict_weight=float("nan"))
        with pytest.raises(ValueError, match="one incident link"):
            AlertNoiseLearner().fit(history()[0], [])


class TestInhibition:
    def test_a_symptom_that_always_follows_its_cause_is_inhibited_while_the_cause_pages(
        self,
    ) -> None:
        firings, links = history()
        policy = AlertNoiseLearner().fit(firings, links)
        rules = [(r.source, r.target) for r in policy.inhibitions]
        assert (family("HighErrorRate", "api"), family("HighLatency", "web")) in rules
        later = [
            firing("HighErrorRate", "api", at(60, 14)),
            firing("HighLatency", "web", at(60, 14.05), minutes=20),  # ends with its cause
            firing("HighLatency", "web", at(61, 14)),  # alone: pages
            firing("HighErrorRate", "api", at(62, 14)),
            firing("HighLatency", "web", at(62, 14.05), minutes=60),  # outlasts its cause
        ]
        verdicts = policy.decide(later)
        assert [v.kept for v in verdicts] == [True, False, True, True, True]
        assert "HighErrorRate/api was firing" in verdicts[1].reason
        # Alertmanager notifies an inhibited alert once its source resolves
        assert [v.paged_at for v in verdicts] == [None, None, None, None, at(62, 14.5)]
        assert verdicts[4].rule == verdicts[1].rule

    def test_no_rule_when_the_symptom_once_belonged_to_another_incident(self) -> None:
        firings, links = history()
        links = [
            ("OTHER" if f.labels["alertname"] == "HighLatency" and i < 10 else k)
            for i, (f, k) in enumerate(zip(firings, links, strict=True))
        ]
        policy = AlertNoiseLearner().fit(firings, links)
        assert (family("HighErrorRate", "api"), family("HighLatency", "web")) not in [
            (r.source, r.target) for r in policy.inhibitions
        ]

    def test_a_reviewers_rule_is_used_as_given_and_replayed_as_alertmanager_runs_it(
        self,
    ) -> None:
        rule = Inhibition(family("DiskSpaceHigh"), family("HighLatency"), 0, 0.0, signal_id=7)
        firings, links = history()
        policy = AlertNoiseLearner(learn_inhibitions=False).fit(firings, links, rules=[rule])
        assert policy.inhibitions == [rule]
        # the disk alert inhibits others, so it is never suppressed: silenced, it would
        # still inhibit (Alertmanager inhibits on every firing alert) and nobody would know
        assert policy.suppressions == []
        assert {
            "alertname": "DiskSpaceHigh",
            "service": "batch",
            "hours": [0, 1, 2, 3],
            "inhibits_with_rule": 0,
        } in policy.training["protected"]
        later = [
            firing("DiskSpaceHigh", "batch", at(70, 2)),
            firing("HighLatency", "web", at(70, 2.1), minutes=20),
        ]
        verdicts = policy.decide(later)
        assert [v.kept for v in verdicts] == [True, False]
        assert (verdicts[1].rule, verdicts[1].reason) == (
            0,
            "inhibited by rule 0: DiskSpaceHigh/batch was firing",
        )
        # the replay runs a suppressed source as Alertmanager would: it still inhibits
        muted = AlertPolicy(
            suppressions=[Suppression("DiskSpaceHigh", "batch", tuple(range(24)), 0.0, 9, 0)],
            inhibitions=[rule],
        )
        assert [v.kept for v in muted.decide(later)] == [False, False]
        # once the source has ended, the target pages
        later = [
            firing("DiskSpaceHigh", "batch", at(70, 9), minutes=5),
            firing("HighLatency", "web", at(70, 9.1)),
        ]
        assert [v.kept for v in policy.decide(later)] == [True, True]

    def test_mutual_rules_silence_both_and_alerts_that_start_together_see_each_other(
        self,
    ) -> None:
        both = [
            Inhibition(family("A"), family("B"), 3, 1.0),
            Inhibition(family("B"), family("A"), 3, 1.0),
        ]
        policy = AlertPolicy(inhibitions=both)
        together = [firing("A", "", at(1)), firing("B", "", at(1))]
        assert [v.kept for v in policy.decide(together)] == [False, False]
        # an alert matching both sides of one rule is not inhibited by another that does too
        wide = AlertPolicy(inhibitions=[Inhibition(family("A"), family("A"), 3, 1.0)])
        twins = [firing("A", "", at(1)), firing("A", "", at(1.01))]
        assert [v.kept for v in wide.decide(twins)] == [True, True]

    def test_learned_rules_never_form_a_cycle(self) -> None:
        # A and B fire together at every incident, in either order
        firings, links = [], []
        for day in range(12):
            first, second = ("A", "B") if day % 2 else ("B", "A")
            firings += [firing(first, "x", at(day, 10)), firing(second, "x", at(day, 10.02))]
            links += [f"I{day}", f"I{day}"]
        policy = AlertNoiseLearner().fit(firings, links)
        pairs = {(r.source[0].value, r.target[0].value) for r in policy.inhibitions}
        assert len(pairs) <= 1 and not {("A", "B"), ("B", "A")} <= pairs
        replay = policy.decide(firings)
        assert {k for k, v in zip(links, replay, strict=True) if v.kept} == set(links)

    def test_no_learned_loop_of_three_either(self) -> None:
        # A, B, C fire together at every incident, each pair in both orders over time
        firings, links = [], []
        orders = [("A", "B", "C"), ("B", "C", "A"), ("C", "A", "B")]
        for day in range(18):
            for offset, name in enumerate(orders[day % 3]):
                firings.append(firing(name, "x", at(day, 10 + offset * 0.02)))
                links.append(f"I{day}")
        policy = AlertNoiseLearner().fit(firings, links)
        edges = {(r.source[0].value, r.target[0].value) for r in policy.inhibitions}
        assert not {("A", "B"), ("B", "C"), ("C", "A")} <= edges
        assert not {("A", "C"), ("C", "B"), ("B", "A")} <= edges
        together = [firing(n, "x", at(40, 10)) for n in "ABC"]
        assert any(v.kept for v in policy.decide(together))


class TestReplay:
    def test_verdicts_are_causal_and_in_the_order_given(self) -> None:
        firings, links = history()
        policy = AlertNoiseLearner().fit(firings, links)
        newer = [
            firing("HighErrorRate", "api", at(80, 14)),
            firing("HighLatency", "web", at(80, 14.05)),
        ]
        base = policy.decide(newer)
        extended = policy.decide(newer + [firing("HighErrorRate", "api", at(81, 1))])
        assert extended[:2] == base
        assert policy.decide(list(reversed(newer))) == list(reversed(base))

    def test_the_config_round_trips_and_bad_configs_name_the_element(self) -> None:
        firings, links = history()
        policy = AlertNoiseLearner().fit(firings, links)
        again = AlertPolicy.from_config(policy.to_config())
        assert again.decide(firings) == policy.decide(firings)
        assert again.to_config() == policy.to_config()
        broken = policy.to_config()
        broken["suppressions"][0]["hours"] = [25]
        with pytest.raises(ValueError, match=r"suppressions\[0\]\.hours: .*UTC hours"):
            AlertPolicy.from_config(broken)
        broken = policy.to_config()
        broken["inhibitions"][0]["target"] = []
        with pytest.raises(ValueError, match=r"inhibitions\[0\]\.target: expected a non-empty"):
            AlertPolicy.from_config(broken)
        broken = policy.to_config()
        del broken["suppressions"][0]["p_relevant"]
        with pytest.raises(ValueError, match=r"^suppressions\[0\]\.p_relevant: missing$"):
            AlertPolicy.from_config(broken)
        broken = policy.to_config()
        broken["suppressions"][0]["hours"] = ["a"]
        with pytest.raises(ValueError, match=r"suppressions\[0\]\.hours: expected a whole"):
            AlertPolicy.from_config(broken)
        broken = policy.to_config()
        broken["inhibitions"][0]["source"][0]["op"] = "~~"
        with pytest.raises(ValueError, match=r"^inhibitions\[0\]\.source\[0\]\.op: "):
            AlertPolicy.from_config(broken)
        with pytest.raises(ValueError, match=r"^policy\.threshold: expected a finite number"):
            AlertPolicy.from_config({**policy.to_config(), "threshold": "high"})
        for element, field, value, message in (
            ("suppressions", "alertname", 5, "expected text"),
            ("suppressions", "alertname", " ", "must not be empty"),
            ("suppressions", "p_relevant", 5.0, "between 0 and 1"),
            ("suppressions", "firings", -3, "0 or more"),
            ("inhibitions", "confidence", 2, "between 0 and 1"),
        ):
            broken = policy.to_config()
            broken[element][0][field] = value
            with pytest.raises(ValueError, match=rf"^{element}\[0\]\.{field}: .*{message}"):
                AlertPolicy.from_config(broken)
        for field, value in (("inhibit_window_minutes", -5), ("learner", [1, 2])):
            with pytest.raises(ValueError, match=rf"^policy\.{field}: "):
                AlertPolicy.from_config({**policy.to_config(), field: value})
        with pytest.raises(ValueError, match="^policy: expected an object"):
            AlertPolicy.from_config([1])  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="kind"):
            AlertPolicy.from_config({"kind": "detector"})


class TestWhatShips:
    def test_a_muted_alert_still_firing_when_its_hours_end_pages(self) -> None:
        rule = Suppression("DiskSpaceHigh", "batch", (0, 1, 2, 3), 0.0, 40, 0)
        policy = AlertPolicy(suppressions=[rule])
        short = firing("DiskSpaceHigh", "batch", at(1, 2), minutes=60)  # ends 03:00
        long = firing("DiskSpaceHigh", "batch", at(1, 3.5), minutes=60)  # ends 04:30
        open_ended = Firing(at(1, 2), None, {"alertname": "DiskSpaceHigh", "service": "batch"})
        verdicts = policy.decide([short, long, open_ended])
        assert [v.kept for v in verdicts] == [False, True, True]
        assert verdicts[1].paged_at == at(1, 4) and "paged at 04:00 UTC" in verdicts[1].reason
        assert rule.muted_until(at(1, 3.5)) == at(1, 4)
        whole_day = AlertPolicy(
            suppressions=[Suppression("DiskSpaceHigh", "batch", tuple(range(24)), 0.0, 9, 0)]
        )
        assert [v.kept for v in whole_day.decide([long, open_ended])] == [False, False]

    def test_one_incident_is_one_time_in_the_reason_and_the_exported_rule(self) -> None:
        from lessonloop.services.model_exports import _policy_rules

        rule = Suppression("DiskSpaceHigh", "batch", tuple(range(24)), 0.1, 9, 1)
        policy = AlertPolicy(suppressions=[rule])
        reason = policy.decide([firing("DiskSpaceHigh", "batch", at(1))])[0].reason
        assert "belonged to an incident 1 time in 9 firings (P = 0.100)" in reason
        learned = _policy_rules(policy, {})[0].learned
        assert learned == "the history: belonged to an incident 1 time in 9 firings (P = 0.100)"

    def test_a_family_without_a_service_never_silences_one_with_a_service(self) -> None:
        rule = Suppression("DiskFull", "", tuple(range(24)), 0.0, 40, 0)
        assert [(m.label, m.value) for m in rule.matchers()] == [
            ("alertname", "DiskFull"),
            ("service", ""),
        ]
        policy = AlertPolicy(suppressions=[rule])
        bare = Firing(at(1), at(1, 1), {"alertname": "DiskFull"})
        owned = firing("DiskFull", "payments", at(1))
        assert [v.kept for v in policy.decide([bare, owned])] == [False, True]
        assert rule.hour_text() == "00-24 h UTC"
        split = Suppression("X", "y", (0, 1, 2, 3, 12, 13, 14, 15), 0.0, 9, 0)
        assert split.hour_text() == "00-04, 12-16 h UTC"

    def test_an_expired_statement_covers_only_the_alerts_before_it_expired(self) -> None:
        said = Prior(family("DiskSpaceHigh", "batch"), relevant=False, until=at(10))
        assert said.covers(firing("DiskSpaceHigh", "batch", at(9)))
        assert not said.covers(firing("DiskSpaceHigh", "batch", at(11)))

    def test_without_incidents_nothing_is_learned(self) -> None:
        firings, _ = history()
        policy = AlertNoiseLearner().fit(firings, [None] * len(firings))
        assert policy.inhibitions == [] and policy.suppressions == []

    def test_an_incident_held_back_by_a_reviewers_rule_at_first_is_still_kept_paging(
        self,
    ) -> None:
        # A reviewer says Deploy holds back Api. INC-1 had Api (held back by the deploy) and
        # Db; Db is noisy otherwise. Suppressing Db would leave INC-1 without a page.
        rule = Inhibition(family("Deploy"), family("Api"), 0, 0.0, signal_id=3)
        firings = [
            firing("Deploy", "ci", at(1, 10)),
            firing("Api", "api", at(1, 10.1), minutes=10),
            firing("Db", "db", at(1, 10.2)),
        ]
        links: list[str | None] = [None, "INC-1", "INC-1"]
        firings += [firing("Db", "db", at(d, 11)) for d in range(2, 40)]
        links += [None] * 38
        policy = AlertNoiseLearner(learn_inhibitions=False).fit(firings, links, rules=[rule])
        replay = policy.decide(firings)
        assert any(v.kept for v, k in zip(replay, links, strict=True) if k == "INC-1")
        assert policy.training["incidents_missed_by_reviewer_rules"] == []

    def test_what_only_a_reviewers_rule_holds_back_is_reported(self) -> None:
        rule = Inhibition(family("Deploy"), family("Api"), 0, 0.0, signal_id=3)
        firings = [firing("Deploy", "ci", at(1, 10)), firing("Api", "api", at(1, 10.1), 10)]
        firings += [firing("Api", "api", at(d, 11)) for d in range(2, 12)]
        links = [None, "INC-1"] + [None] * 10
        policy = AlertNoiseLearner(learn_inhibitions=False).fit(firings, links, rules=[rule])
        assert policy.inhibitions == [rule]
        assert policy.training["incidents_missed_by_reviewer_rules"] == ["INC-1"]

    def test_a_suppression_that_would_page_an_incident_hours_late_is_not_shipped(self) -> None:
        # the incident's first alert is the nightly noisy one; its next alert came 3 h later
        firings = [firing("Night", "batch", at(d, 2)) for d in range(30)]
        links: list[str | None] = [None] * 30
        firings += [firing("Night", "batch", at(31, 2)), firing("Err", "api", at(31, 5))]
        links += ["INC-1", "INC-1"]
        policy = AlertNoiseLearner(learn_inhibitions=False).fit(firings, links)
        assert policy.suppressions == []
        relaxed = AlertNoiseLearner(learn_inhibitions=False, max_added_delay_minutes=600)
        assert [s.alertname for s in relaxed.fit(firings, links).suppressions] == ["Night"]

    def test_protections_name_rules_that_shipped(self) -> None:
        firings, links = history()
        policy = AlertNoiseLearner().fit(firings, links)
        numbers = [
            p["inhibits_with_rule"]
            for p in policy.training["protected"]
            if "inhibits_with_rule" in p
        ]
        assert all(0 <= n < len(policy.inhibitions) for n in numbers)

    def test_the_learner_refuses_settings_that_cannot_work(self) -> None:
        with pytest.raises(ValueError, match="verdict_weight"):
            AlertNoiseLearner(verdict_weight=0)
        with pytest.raises(ValueError, match="min_support"):
            AlertNoiseLearner(min_support=-3)
        with pytest.raises(ValueError, match="min_confidence"):
            AlertNoiseLearner(min_confidence=5.0)
        said = Prior(family("DiskSpaceHigh", "batch"), relevant=False)
        firings, links = history()
        assert (
            AlertNoiseLearner(verdict_weight=0, verdict_cap=0)
            .fit(firings, links, priors=[said])
            .suppressions
            == AlertNoiseLearner().fit(firings, links).suppressions
        )

    def test_an_inhibition_that_lifts_inside_muted_hours_pages_when_they_end(self) -> None:
        rule = Inhibition(family("DBDown"), family("Latency"), 0, 0.0, signal_id=1)
        muted = Suppression("Latency", "api", (12, 13, 14, 15), 0.0, 40, 0)
        policy = AlertPolicy(suppressions=[muted], inhibitions=[rule])
        source = firing("DBDown", "db", at(1, 11), minutes=90)  # until 12:30
        ends_muted = firing("Latency", "api", at(1, 11.1), minutes=115)  # ends 13:01
        outlasts = firing("Latency", "api", at(2, 11.1), minutes=400)  # ends 17:46
        later_source = firing("DBDown", "db", at(2, 11), minutes=90)
        verdicts = policy.decide([source, ends_muted, later_source, outlasts])
        assert [v.kept for v in verdicts] == [True, False, True, True]
        assert verdicts[3].paged_at == at(2, 16)  # the muted hours ended
        # without an end it is taken as still firing: it pages when nothing holds it back
        open_ended = Firing(at(3, 11.1), None, {"alertname": "Latency", "service": "api"})
        last = policy.decide([firing("DBDown", "db", at(3, 11), minutes=30), open_ended])
        assert last[1].kept and last[1].paged_at == at(3, 11.5)
        # an alert that starts and ends while its source fires never pages
        instant = Firing(at(4, 11.2), at(4, 11.2), {"alertname": "Latency", "service": "api"})
        assert not policy.decide([firing("DBDown", "db", at(4, 11)), instant])[1].kept

    def test_a_learned_rule_never_closes_a_loop_with_a_reviewers_rule_on_any_service(
        self,
    ) -> None:
        # the reviewer: DBDown (any service) holds back Latency (any service)
        said = Inhibition(family("DBDown"), family("Latency"), 0, 0.0, signal_id=4)
        firings, links = [], []
        for day in range(12):  # Latency/api always first, DBDown/db right after, one incident
            firings += [
                firing("Latency", "api", at(day, 10)),
                firing("DBDown", "db", at(day, 10.02)),
            ]
            links += [f"I{day}", f"I{day}"]
        policy = AlertNoiseLearner().fit(firings, links, rules=[said])
        learned = [(r.source[0].value, r.target[0].value) for r in policy.inhibitions[1:]]
        assert ("Latency", "DBDown") not in learned
        together = [firing("Latency", "api", at(40, 10)), firing("DBDown", "db", at(40, 10))]
        assert any(v.kept for v in policy.decide(together))
