"""Precedent retriever save / load as JSON, and refitting that keeps reviewers' verdicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lessonloop.errors import InputError
from lessonloop.text.precedents import PrecedentDocument, PrecedentRetriever

DOCUMENTS = [
    PrecedentDocument("INC-1", "Leap second froze Cassandra", "clock jump", labels=("time",)),
    PrecedentDocument("INC-2", "Disk failure in rack 7", "disk controller died", labels=("hw",)),
    PrecedentDocument("INC-3", "Config push broke DNS", "bad dns record pushed", labels=("cfg",)),
    PrecedentDocument("INC-4", "Second DNS outage", "resolver config typo", labels=("cfg",)),
]


def _trained() -> PrecedentRetriever:
    retriever = PrecedentRetriever(feedback_weight=0.8, k1=1.5).fit(DOCUMENTS)
    retriever.add_feedback("dns resolver broken", "INC-4", helpful=True)
    retriever.add_feedback("dns resolver broken", "INC-3", helpful=False)
    return retriever


def test_round_trip_gives_identical_rankings_and_scores(tmp_path: Path) -> None:
    original = _trained()
    original.save(tmp_path / "model")
    loaded = PrecedentRetriever.load(tmp_path / "model")
    assert loaded.k1 == 1.5 and loaded.feedback_weight == 0.8
    assert loaded.documents_ == original.documents_
    assert loaded.feedback_records() == original.feedback_records()
    for query in ("dns resolver", "disk died", "clock"):
        assert loaded.search(query, k=4) == original.search(query, k=4)
    assert original.search("dns resolver", k=1)[0].incident_id == "INC-4"
    assert {p.name for p in (tmp_path / "model").iterdir()} == {"config.json", "state.json"}


def test_refit_keeps_verdicts_on_documents_still_indexed() -> None:
    retriever = _trained()
    retriever.fit(DOCUMENTS[1:] + [PrecedentDocument("INC-9", "Unrelated", "nothing")])
    assert [r[1] for r in retriever.feedback_records()] == ["INC-4", "INC-3"]
    assert retriever.feedback_adjustments("dns resolver broken")[2] > 0  # INC-4, row 2 now
    smaller = _trained().fit(DOCUMENTS[:3])
    assert [r[1] for r in smaller.feedback_records()] == ["INC-3"]


def test_unfitted_retriever_cannot_be_saved(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        PrecedentRetriever().save(tmp_path / "x")


@pytest.mark.parametrize(
    ("file", "edit", "field"),
    [
        ("config.json", lambda c: c | {"format": "other"}, "format"),
        ("config.json", lambda c: c | {"version": 99}, "version"),
        ("config.json", lambda c: c | {"params": {"exec": "x"}}, "params"),
        ("state.json", lambda s: s | {"documents": [{"title": "no id"}]}, "documents[0]"),
        ("state.json", lambda s: s | {"feedback": [{"query": "q"}]}, "feedback[0]"),
    ],
)
def test_tampered_files_give_one_input_error_naming_the_field(
    tmp_path: Path, file: str, edit, field: str
) -> None:
    _trained().save(tmp_path)
    path = tmp_path / file
    path.write_text(json.dumps(edit(json.loads(path.read_text()))))
    with pytest.raises(InputError) as caught:
        PrecedentRetriever.load(tmp_path)
    assert caught.value.field == field
    assert caught.value.file == str(path)


def test_broken_json_names_the_line(tmp_path: Path) -> None:
    _trained().save(tmp_path)
    (tmp_path / "state.json").write_text('{\n  "documents": [\n oops')
    with pytest.raises(InputError) as caught:
        PrecedentRetriever.load(tmp_path)
    assert caught.value.line == 3
    with pytest.raises(InputError):
        PrecedentRetriever.load(tmp_path / "missing")
