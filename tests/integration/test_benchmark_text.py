"""B2 runner end to end on a tiny generated corpus, and the reader on the real shared corpus."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest

from lessonloop.errors import InputError
from lessonloop.services.benchmark_text import read_postmortem_directory, run_b2

TEMPLATES = {
    "security": "Attackers exploited a leaked token and breached the {x} service",
    "hardware": "A failed disk and a power supply fault took down the {x} rack",
    "time": "The leap second made the clock jump and {x} timestamps went wrong",
}
SERVICES = ["billing", "search", "login", "checkout", "api", "storage", "mail", "chat"]


def write_corpus(directory: Path, services: list[str]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for label, template in TEMPLATES.items():
        for service in services:
            (directory / f"{label}-{service}.md").write_text(
                f"---\ntitle: {service} incident\ncategories:\n- {label}\n"
                f"summary: {template.format(x=service)}\n---\n\nBody text.\n",
                encoding="utf-8",
            )
    (directory / "unlabeled.md").write_text(
        "---\ntitle: Something broke\ncategories: []\n---\n\nNobody labelled this one.\n"
    )
    return directory


def test_b2_cross_validation_on_generated_corpus(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", SERVICES)
    messages: list[str] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = run_b2(corpus, seed=3, semantic=False, progress=messages.append, reveal_repeats=1)
    json.dumps(result)
    assert result["protocol"] == "B2"
    assert result["data"] == {
        "documents": 25,
        "labeled": 24,
        "label_counts": result["data"]["label_counts"],
        "unknown_categories": {},
        "empty_documents": [],
        "untrained_test_categories": [],
        "duplicate_documents": [],
    }
    assert result["warnings"] == []
    curve = result["results"]["curve"]
    assert [step["fraction"] for step in curve] == [0.0, 0.1, 0.25, 0.5, 1.0]
    assert set(curve[-1]["per_category_f1"]) >= set(TEMPLATES)
    assert curve[-1]["per_category_f1"]["security"] > 0.9
    assert curve[-1]["micro_f1"] > 0.9
    retrieval = result["results"]["retrieval"]
    assert retrieval["precision_at_5"] > 0.8 and retrieval["mrr"] > 0.9
    assert len(result["raw"]["documents"]) == 24
    assert len(messages) == 5


def test_b2_train_on_one_directory_test_on_another(tmp_path: Path) -> None:
    train = write_corpus(tmp_path / "train", SERVICES[:5])
    test = write_corpus(tmp_path / "test", SERVICES[5:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        result = run_b2(
            None,
            train_corpus=train,
            test_corpus=test,
            seed=0,
            semantic=False,
            progress=None,
            reveal_repeats=1,
            fractions=(0.0, 1.0),
        )
    assert result["config"]["folds"] == 1
    assert len(result["raw"]["documents"]) == 9
    assert result["results"]["curve"][-1]["micro_f1"] > 0.9


def test_b2_all_fields_mode_feeds_the_body_to_the_classifier(tmp_path: Path) -> None:
    # Titles and summaries say nothing; only the body names the failure mode.
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for label, template in TEMPLATES.items():
        for service in SERVICES[:5]:
            (corpus / f"{label}-{service}.md").write_text(
                f"---\ntitle: {service} incident\ncategories:\n- {label}\n"
                f"summary: Something went wrong.\n---\n\n{template.format(x=service)}\n",
                encoding="utf-8",
            )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        results = {
            mode: run_b2(corpus, reveal_repeats=1, fractions=(1.0,), document_text=mode)
            for mode in ("title+summary", "all-fields")
        }
    assert results["all-fields"]["config"]["document_text"] == "all-fields"
    per_label = {
        mode: result["results"]["curve"][0]["per_category_f1"] for mode, result in results.items()
    }
    assert all(per_label["all-fields"][label] > 0.9 for label in TEMPLATES)
    assert sum(per_label["all-fields"][x] for x in TEMPLATES) > sum(
        per_label["title+summary"][x] for x in TEMPLATES
    )


def test_b2_reports_broken_file_and_bad_arguments(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "corpus", SERVICES[:2])
    (corpus / "zz-broken.md").write_text("---\ntitle: x\n  nested: {a: 1}\n---\n")
    with pytest.raises(InputError) as error:
        run_b2(corpus, seed=0, semantic=False, progress=None)
    assert error.value.file is not None and error.value.file.endswith("zz-broken.md")
    assert error.value.line == 3
    with pytest.raises(InputError):
        run_b2(None, train_corpus=corpus, test_corpus=None, seed=0, semantic=False, progress=None)


def test_reader_parses_every_shared_postmortem(shared_datasets: Path) -> None:
    documents = read_postmortem_directory(shared_datasets / "postmortems" / "data")
    assert len(documents) == 171
    labeled = [d for d in documents if d.is_labeled]
    assert len(labeled) == 132
    assert all(d.text.strip() for d in labeled)
    allowed = {
        "automation",
        "cloud",
        "config-change",
        "security",
        "cascading-failure",
        "hardware",
        "time",
    }
    assert {c for d in labeled for c in d.categories} == allowed
