"""The evidence column of ``lessonloop triage``: keyword hits and top terms, each once."""

from __future__ import annotations

from lessonloop.cli.triage import evidence


def test_evidence_shows_each_term_once_in_order() -> None:
    hits = ("dns", "rout*")
    terms = ("dns", "zone", "resolver", "dns", "nxdomain", "edge")
    assert evidence(hits, terms) == "dns, rout*, zone, resolver, nxdomain"
    assert evidence((), ()) == ""
