"""B1 runner end to end on small generated corpora: output format, peers, Dask, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lessonloop.errors import InputError
from lessonloop.services.benchmark_nab import load_corpus, run_b1

N_ROWS = 1200


def _stamps(n: int) -> list[str]:
    start = np.datetime64("2024-01-01T00:00")
    return [str(start + np.timedelta64(5 * k, "m")).replace("T", " ") + ":00" for k in range(n)]


def _write_series(path: Path, stamps: list[str], values: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["timestamp,value"] + [f"{t},{v}" for t, v in zip(stamps, values, strict=True)]
    path.write_text("\n".join(lines) + "\n")


def make_corpus(root: Path, *, seed: int = 0) -> Path:
    """Three series with one labelled spike before and one after the split each."""
    rng = np.random.default_rng(seed)
    stamps = _stamps(N_ROWS)
    labels: dict[str, list[list[str]]] = {}
    for k, name in enumerate(["alpha/a.csv", "alpha/b.csv", "beta/c.csv"]):
        values = 10 + np.sin(np.arange(N_ROWS) / 20) + rng.normal(0, 0.2, N_ROWS)
        early, late = 400 + 30 * k, 950 + 20 * k
        values[early] += 8
        values[late:] += 5
        _write_series(root / "data" / name, stamps, [f"{v:.4f}" for v in values])
        labels[name] = [[stamps[r - 10], stamps[r + 30]] for r in (early, late)]
    (root / "labels").mkdir(parents=True, exist_ok=True)
    (root / "labels" / "combined_windows.json").write_text(json.dumps(labels))
    oracle = {name: [w[0] for w in pairs] for name, pairs in labels.items()}
    profiles = ("standard", "reward_low_FP_rate", "reward_low_FN_rate")
    peers = {
        "detectors": {
            "oracle": {p: {"threshold": 0.5, "detections": oracle} for p in profiles},
            "null": {p: {"threshold": 0.5, "detections": {}} for p in profiles},
        }
    }
    (root / "peers.json").write_text(json.dumps(peers))
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("mini_nab"))


@pytest.fixture(scope="module")
def document(corpus: Path) -> dict:
    messages: list[str] = []
    result = run_b1(
        corpus, corpus / "peers.json", jobs=1, dask_scheduler=None, progress=messages.append
    )
    assert messages, "progress was never reported"
    return result


def test_output_has_the_protocol_format(document: dict, corpus: Path) -> None:
    assert document["protocol"] == "B1"
    assert document["corpus"] == str(corpus)
    profiles = {"standard", "reward_low_FP_rate", "reward_low_FN_rate"}
    for variant in ("without_feedback", "with_feedback"):
        assert set(document["detections"][variant]) == profiles
        by_file = document["detections"][variant]["standard"]
        assert set(by_file) == {"alpha/a.csv", "alpha/b.csv", "beta/c.csv"}
        stamps = set(_stamps(N_ROWS))
        assert all(t in stamps for found in by_file.values() for t in found)
    assert json.loads(json.dumps(document)) == document


def test_results_hold_scores_peers_and_lift(document: dict) -> None:
    standard = document["results"]["profiles"]["standard"]
    assert standard["peers_holdout"]["oracle"] == pytest.approx(100.0)
    assert standard["peers_holdout"]["null"] == pytest.approx(0.0)
    assert standard["holdout_windows"] == 3
    lift = standard["lift"]
    assert lift["low"] <= lift["estimate"] <= lift["high"]
    assert lift["verdict"] in {"better", "worse", "not distinguishable"}
    assert -100 < standard["without_feedback"]["holdout"] <= 100
    assert document["results"]["peak_rss_mib"] > 0


def test_planted_anomalies_are_detected_without_feedback(document: dict) -> None:
    standard = document["results"]["profiles"]["standard"]
    assert standard["without_feedback"]["full_corpus"] > 50


def test_dask_run_matches_local_run(corpus: Path, document: dict) -> None:
    from dask.distributed import LocalCluster

    with LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=":0",
    ) as cluster:
        on_dask = run_b1(
            corpus,
            corpus / "peers.json",
            jobs=2,
            dask_scheduler=cluster.scheduler_address,
            progress=None,
        )
    assert on_dask["detections"] == document["detections"]
    assert on_dask["results"]["backend"] == "dask"


def _corrupt(corpus: Path, name: str, line: int, text: str) -> None:
    path = corpus / "data" / name
    lines = path.read_text().splitlines()
    lines[line - 1] = text
    path.write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize(
    ("line_text", "message"),
    [
        ("2024-01-01 08:20:00,nan", "NaN"),
        ("2024-01-01 08:20:00,high", "not a number"),
        ("yesterday,1.0", "is not a timestamp"),
    ],
)
def test_bad_values_are_rejected_with_file_and_line(
    tmp_path: Path, line_text: str, message: str
) -> None:
    corpus = make_corpus(tmp_path)
    _corrupt(corpus, "alpha/b.csv", 102, line_text)
    with pytest.raises(InputError, match=message) as caught:
        load_corpus(corpus)
    assert caught.value.file == "alpha/b.csv"
    assert caught.value.line == 102


def test_single_row_file_is_rejected(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    _write_series(corpus / "data" / "beta" / "c.csv", _stamps(1), ["1.0"])
    with pytest.raises(InputError, match="at least 2 rows") as caught:
        load_corpus(corpus)
    assert caught.value.file == "beta/c.csv"


def test_folder_without_labels_is_rejected(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    (corpus / "labels" / "combined_windows.json").unlink()
    with pytest.raises(InputError, match="combined_windows.json"):
        load_corpus(corpus)


def test_unlabelled_data_file_is_rejected(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    _write_series(corpus / "data" / "beta" / "extra.csv", _stamps(10), ["1.0"] * 10)
    with pytest.raises(InputError, match="no entry in the labels") as caught:
        load_corpus(corpus)
    assert caught.value.file == "beta/extra.csv"


def test_gaps_duplicates_and_constant_series_are_accepted(tmp_path: Path) -> None:
    corpus = make_corpus(tmp_path)
    stamps = _stamps(N_ROWS + 50)
    with_gap = stamps[:600] + stamps[650:]
    with_gap[700] = with_gap[699]
    _write_series(corpus / "data" / "beta" / "c.csv", with_gap, ["3.5"] * N_ROWS)
    labels_path = corpus / "labels" / "combined_windows.json"
    labels = json.loads(labels_path.read_text())
    labels["beta/c.csv"] = []
    labels_path.write_text(json.dumps(labels))
    result = run_b1(corpus, None, jobs=1, dask_scheduler=None, progress=None)
    assert result["results"]["timestamp_warnings"] == {"beta/c.csv": 1}
    for variant in ("without_feedback", "with_feedback"):
        assert result["detections"][variant]["standard"]["beta/c.csv"] == []


def test_learner_is_selectable_and_unknown_learner_is_rejected(corpus: Path) -> None:
    result = run_b1(corpus, None, jobs=1, learner="sequence_aware_ensemble")
    for entry in result["results"]["profiles"].values():
        assert entry["with_feedback"]["learner"] == "sequence_aware_ensemble"
    with pytest.raises(InputError) as caught:
        run_b1(corpus, None, jobs=1, learner="rolling_zscore")
    assert caught.value.field == "learner"
