"""B4 (detectors): scoring throughput on the whole NAB corpus, learners included.

Reports, each as seconds, points/s and ratio to a plain NumPy rolling z-score over the same
data measured in the same run:

- ``surprise_ensemble``: the no-feedback detector (score + threshold + debounce);
- ``fitted_learner_score``: the detector the feedback learner produced, scoring and detecting
  on every series (what runs in production on new points);
- ``learner_fit``: learning from feedback across all series (one profile), on its own;
- ``learner_fit_and_score``: both, serially and with ``--jobs`` workers for the scoring.

Feedback is B1's: labels before the split, verdicts on the no-feedback detector's alerts, and
the corpus category as the group of similar series.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

from lessonloop.detectors import (
    Detector,
    SurpriseEnsemble,
    make_detector,
)
from lessonloop.services.benchmark_nab import b1_feedback, load_corpus

REPO_ROOT = Path(__file__).resolve().parents[1]


def numpy_rolling_zscore(values: np.ndarray, window: int = 128) -> np.ndarray:
    """The floor: |x - trailing mean| / trailing std with cumulative sums."""
    first = np.concatenate(([0.0], np.cumsum(values)))
    second = np.concatenate(([0.0], np.cumsum(values * values)))
    rows = np.arange(values.size)
    low = np.maximum(rows - window, 0)
    count = np.maximum(rows - low, 1)
    mean = (first[rows] - first[low]) / count
    std = np.sqrt(np.maximum((second[rows] - second[low]) / count - mean * mean, 0.0))
    return np.abs(values - mean) / (std + 1e-9)


def best_times(
    tasks: dict[str, Callable[[], object]], repeats: int
) -> dict[str, tuple[float, float]]:
    """Fastest of `repeats` runs of each task: (wall seconds, CPU seconds of this process).

    Rounds interleave the tasks, which spreads the load of other processes evenly over the
    tasks compared; CPU time is the figure least disturbed by that load (it excludes joblib
    workers, so it is only meaningful for serial tasks).
    """
    wall: dict[str, list[float]] = {name: [] for name in tasks}
    cpu: dict[str, list[float]] = {name: [] for name in tasks}
    for _ in range(repeats):
        for name, task in tasks.items():
            started, started_cpu = time.perf_counter(), time.process_time()
            task()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    return {name: (min(wall[name]), min(cpu[name])) for name in tasks}


def timing(
    measured: tuple[float, float], points: int, floor: tuple[float, float]
) -> dict[str, float]:
    """Seconds, points/s and ratio to the z-score floor measured in the same run (wall, CPU)."""
    seconds, cpu_seconds = measured
    return {
        "seconds": seconds,
        "points_per_second": points / seconds,
        "ratio_to_floor": seconds / floor[0],
        "cpu_seconds": cpu_seconds,
        "cpu_ratio_to_floor": cpu_seconds / floor[1],
    }


def peak_rss_mib() -> float:
    """Peak resident memory of this process and of its (joblib) children, MiB (Linux units)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def main() -> None:
    """Measure and print; write --out JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=REPO_ROOT / "../shared/datasets/nab")
    parser.add_argument("--out", type=Path, default=Path("b4_detector_speed.json"))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--learner", default="record_aware_ensemble", help="registered feedback learner (B1's)"
    )
    args = parser.parse_args()
    files = load_corpus(args.corpus.resolve())
    points = sum(f.truth.n_rows for f in files)
    detector = SurpriseEnsemble()
    baseline = {f.name: detector.detect(f.values, start_row=f.probation) for f in files}
    feedback = b1_feedback(files, baseline)
    fitted = make_detector(args.learner).fit(feedback)

    def score_with(learner: Detector, jobs: int) -> None:
        if jobs == 1:
            for f, fb in zip(files, feedback, strict=True):
                learner.detect(f.values, feedback=fb, start_row=f.probation)
            return
        Parallel(n_jobs=jobs)(
            delayed(learner.detect)(f.values, feedback=fb, start_row=f.probation)
            for f, fb in zip(files, feedback, strict=True)
        )

    tasks: dict[str, Callable[[], object]] = {
        "numpy_rolling_zscore": lambda: [numpy_rolling_zscore(f.values) for f in files],
        "surprise_ensemble": lambda: [
            detector.detect(f.values, start_row=f.probation) for f in files
        ],
        "fitted_learner_score": lambda: score_with(fitted, 1),
        "learner_fit": lambda: make_detector(args.learner).fit(feedback),
        "learner_fit_and_score": lambda: score_with(make_detector(args.learner).fit(feedback), 1),
        f"learner_fit_and_score_jobs{args.jobs}": lambda: score_with(
            make_detector(args.learner).fit(feedback), args.jobs
        ),
    }
    measured = best_times(tasks, args.repeats)
    floor = measured["numpy_rolling_zscore"]
    peak = peak_rss_mib()
    result: dict[str, object] = {"benchmark": "B4-detectors", "points": points}
    result["learner"] = args.learner
    result["learned_config"] = getattr(fitted, "config_", None)
    result.update({name: timing(value, points, floor) for name, value in measured.items()})
    result["peak_rss_mib"] = peak
    result["load_average"] = os.getloadavg()
    args.out.write_text(json.dumps(result, indent=1))
    print(f"B4 detectors on {points} points (best of {args.repeats}), learner {args.learner}")
    print(f"  {'':<30}{'wall s':>8} {'points/s':>14}  {'ratio':>6}  {'CPU s':>7}  {'ratio':>6}")
    for name, value in measured.items():
        entry = timing(value, points, floor)
        print(
            f"  {name:<30}{entry['seconds']:8.4f} {entry['points_per_second']:>14,.0f}"
            f"  {entry['ratio_to_floor']:5.1f}x  {entry['cpu_seconds']:7.4f}"
            f"  {entry['cpu_ratio_to_floor']:5.1f}x"
        )
    print(f"  peak RSS {peak:.0f} MiB, load average {os.getloadavg()[0]:.2f}")
    print("  (CPU figures exclude joblib workers: ignore them for the jobs row)")


if __name__ == "__main__":
    main()
