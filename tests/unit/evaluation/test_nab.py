"""NAB scorer: published scoreboard reproduced from peer detections, and the rule's pieces."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lessonloop.evaluation import (
    FileTruth,
    holdout_split,
    nab_profiles,
    probation_length,
    score_corpus,
    score_file,
    timestamps_to_rows,
    window_rows,
)
from lessonloop.evaluation.nab import scaled_sigmoid


def _nab_truths(nab: Path) -> tuple[list[FileTruth], dict[str, np.ndarray]]:
    windows = json.loads((nab / "labels" / "combined_windows.json").read_text())
    truths, stamps = [], {}
    for name, pairs in sorted(windows.items()):
        lines = (nab / "data" / name).read_text().splitlines()[1:]
        stamp = np.array([line.split(",")[0] for line in lines], dtype="datetime64[ns]")
        stamps[name] = stamp
        truths.append(FileTruth(name, len(stamp), window_rows(stamp, pairs)))
    return truths, stamps


@pytest.fixture(scope="module")
def nab_with_peers(shared_datasets: Path) -> tuple[list[FileTruth], dict[str, dict[str, dict]]]:
    truths, stamps = _nab_truths(shared_datasets / "nab")
    peers_path = shared_datasets / "nab-peers" / "nab_peer_detections.json"
    peers = json.loads(peers_path.read_text())["detectors"]
    rows = {
        peer: {
            profile: {n: timestamps_to_rows(stamps[n], d) for n, d in e["detections"].items()}
            for profile, e in by_profile.items()
        }
        for peer, by_profile in peers.items()
    }
    return truths, rows


@pytest.mark.parametrize(
    ("peer", "published"),
    [
        ("ARTime", 74.85),
        ("numenta", 70.10),
        ("contextOSE", 69.90),
        ("windowedGaussian", 39.65),
        ("random", 16.83),
        ("null", 0.0),
    ],
)
def test_published_standard_scores_are_reproduced(nab_with_peers, peer, published) -> None:
    truths, rows = nab_with_peers
    score = score_corpus(truths, rows[peer]["standard"], nab_profiles()["standard"])
    assert score.normalised == pytest.approx(published, abs=0.01)


def test_artime_holdout_scores_match_benchmark_figures(nab_with_peers) -> None:
    truths, rows = nab_with_peers
    splits = {t.name: holdout_split(t.n_rows, t.windows) for t in truths}
    expected = {"standard": 78.27, "reward_low_FP_rate": 70.10, "reward_low_FN_rate": 83.33}
    for name, profile in nab_profiles().items():
        score = score_corpus(truths, rows["ARTime"][name], profile, first_scored_rows=splits)
        assert score.normalised == pytest.approx(expected[name], abs=0.01)
        assert score.perfect == 61


def test_probation_and_sigmoid() -> None:
    assert probation_length(1000) == 150
    assert probation_length(100_000) == 750
    assert scaled_sigmoid(3.5) == -1.0
    assert scaled_sigmoid(0.0) == pytest.approx(0.0)


def test_early_detection_earns_full_reward_and_late_almost_none() -> None:
    truth = FileTruth("f", 1000, ((500, 599),))
    standard = nab_profiles()["standard"]
    assert score_file(truth, [500], standard).raw == pytest.approx(1.0)
    assert 0 < score_file(truth, [599], standard).raw < 0.1
    assert score_file(truth, [], standard).raw == -1.0


def test_false_positive_cost_is_lower_right_after_a_window() -> None:
    truth = FileTruth("f", 2000, ((500, 599),))
    standard = nab_profiles()["standard"]
    just_after = score_file(truth, [500, 605], standard).raw - 1.0
    far_after = score_file(truth, [500, 1500], standard).raw - 1.0
    assert far_after == pytest.approx(-0.11)
    assert far_after < just_after < 0


def test_probation_rows_and_windows_are_not_scored() -> None:
    truth = FileTruth("f", 1000, ((10, 50), (500, 599)))
    score = score_file(truth, [20, 100], nab_profiles()["standard"])
    assert score.counted_windows == 1
    assert score.false_positives == 0
    assert score.raw == -1.0


def test_holdout_split_moves_to_window_start() -> None:
    assert holdout_split(1000, ()) == 150 + 425
    assert holdout_split(1000, ((560, 620),)) == 560


def test_holdout_scores_only_rows_after_split() -> None:
    truth = FileTruth("f", 1000, ((200, 260), (700, 760)))
    score = score_file(truth, [200, 990], nab_profiles()["standard"], first_scored_row=575)
    assert score.counted_windows == 1
    assert score.raw == pytest.approx(-1.0 - 0.11)


def test_unknown_detection_timestamp_is_rejected() -> None:
    stamps = np.array(["2020-01-01T00:00", "2020-01-01T00:05"], dtype="datetime64[ns]")
    with pytest.raises(ValueError, match="not in the file"):
        timestamps_to_rows(stamps, ["2020-01-01 00:01:00"])
