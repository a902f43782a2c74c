"""B4 (detectors): scoring throughput on the whole NAB corpus, learners included.

Reports points/s of (1) the no-feedback detector (score + threshold + debounce), (2) the
feedback learner (fit across all series for one profile, then score + detect), and the ratio of
each time to a plain NumPy rolling z-score over the same data measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

from lessonloop.detectors import (
    FalsePositiveVerdict,
    LabelWindow,
    SeriesFeedback,
    SurpriseEnsemble,
    make_detector,
)
from lessonloop.services.benchmark_nab import CorpusFile, load_corpus

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


def best_time(task: Callable[[], object], repeats: int) -> float:
    """Fastest of `repeats` runs, in seconds."""
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        task()
        times.append(time.perf_counter() - started)
    return min(times)


def feedback_of(files: list[CorpusFile], baseline: dict[str, np.ndarray]) -> list[SeriesFeedback]:
    """Feedback as in B1 (labels before the split, verdicts on baseline alerts)."""
    items = []
    for f in files:
        windows = tuple(LabelWindow(a, b) for a, b in f.truth.windows if b < f.split)
        alerts = baseline[f.name][baseline[f.name] < f.split]
        outside = [r for r in alerts if not any(w.start_index <= r <= w.end_index for w in windows)]
        verdicts = tuple(FalsePositiveVerdict(int(r)) for r in outside)
        items.append(
            SeriesFeedback(f.name, f.values, f.split, windows, verdicts, warmup=f.probation)
        )
    return items


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
    floor = best_time(lambda: [numpy_rolling_zscore(f.values) for f in files], args.repeats)
    plain = best_time(
        lambda: [detector.detect(f.values, start_row=f.probation) for f in files], args.repeats
    )
    baseline = {f.name: detector.detect(f.values, start_row=f.probation) for f in files}
    feedback = feedback_of(files, baseline)

    def learn_and_detect(jobs: int) -> None:
        learner = make_detector(args.learner).fit(feedback)
        Parallel(n_jobs=jobs)(
            delayed(learner.detect)(f.values, feedback=fb, start_row=f.probation)
            for f, fb in zip(files, feedback, strict=True)
        )

    learner_serial = best_time(lambda: learn_and_detect(1), args.repeats)
    learner_parallel = best_time(lambda: learn_and_detect(args.jobs), args.repeats)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "benchmark": "B4-detectors",
        "points": points,
        "learner": args.learner,
        "numpy_rolling_zscore": {"seconds": floor, "points_per_second": points / floor},
        "surprise_ensemble": {
            "seconds": plain,
            "points_per_second": points / plain,
            "ratio_to_floor": plain / floor,
        },
        "feedback_learner_serial": {
            "seconds": learner_serial,
            "points_per_second": points / learner_serial,
            "ratio_to_floor": learner_serial / floor,
        },
        f"feedback_learner_jobs{args.jobs}": {
            "seconds": learner_parallel,
            "points_per_second": points / learner_parallel,
            "ratio_to_floor": learner_parallel / floor,
        },
        "peak_rss_mib": peak,
    }
    args.out.write_text(json.dumps(result, indent=1))
    print(f"B4 detectors on {points} points (best of {args.repeats}), learner {args.learner}")
    for name, entry in result.items():
        if isinstance(entry, dict):
            ratio = entry.get("ratio_to_floor")
            extra = f"  ratio {ratio:.1f}x" if ratio else ""
            rate = f"{entry['points_per_second']:>14,.0f} pts/s"
            print(f"  {name:<28}{entry['seconds']:8.3f} s {rate}{extra}")
    print(f"  peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
