"""B1 model selection on the feedback period only: nested validation and the feedback score.

Holdout rows are out of reach by construction: `feedback_view` keeps, per file, only the values
of rows < s and the label windows that end before s (BENCHMARKS.md B1), and every score below
is computed from that view (peer detections are cut at s too).

- Nested validation (the figure that decides): m = the midpoint of [p, s), moved back to a
  window's start when inside one. The learner sees labels and verdicts of rows < m only and is
  scored on rows [m, s) against the windows there.
- Feedback score (in-sample): the learner sees labels and verdicts of rows < s and is scored on
  rows [p, s) against the windows ending before s.

Also shown: the feedback score of the first half [p, m) and, learning from rows < s, the score
on [m, s) ("late in-sample"); peers (no learning) have their scores on the same rows, their
"nested" column being rows [m, s). Each learner is compared with the first one (the B1
default) by a bootstrap over files of the paired difference. Example::

    .venv/bin/python benchmarks/b1_nested.py --learners record_aware_ensemble OTHER
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lessonloop.detectors import (
    Detector,
    FalsePositiveVerdict,
    LabelWindow,
    SeriesFeedback,
    SurpriseEnsemble,
    detector_names,
    make_detector,
)
from lessonloop.evaluation import (
    CorpusScore,
    CostProfile,
    FileTruth,
    nab_profiles,
    score_corpus,
)
from lessonloop.services.benchmark_nab import load_corpus, load_peers, score_lift

REPO_ROOT = Path(__file__).resolve().parents[1]
Detections = dict[str, np.ndarray]


@dataclass(frozen=True)
class FeedbackFile:
    """What the feedback period of one file holds: values and windows of rows < split only."""

    name: str
    n_rows: int
    probation: int
    split: int
    values: np.ndarray
    windows: tuple[tuple[int, int], ...]

    @property
    def group(self) -> str:
        return self.name.split("/")[0]

    @property
    def truth(self) -> FileTruth:
        """NAB truth over the feedback period (the full length keeps NAB's probation)."""
        return FileTruth(self.name, self.n_rows, self.windows)

    @property
    def nested_split(self) -> int:
        """m: the midpoint of [p, split), moved back to a window's start when inside one."""
        middle = self.probation + (self.split - self.probation) // 2
        for left, right in self.windows:
            if left <= middle <= right:
                return left
        return middle


def feedback_view(corpus: Path) -> list[FeedbackFile]:
    """The corpus cut at each file's split: the only place that reads the whole corpus."""
    view = []
    for f in load_corpus(corpus):
        split = f.split
        windows = tuple((left, right) for left, right in f.truth.windows if right < split)
        values = f.values[:split].copy()
        view.append(FeedbackFile(f.name, f.truth.n_rows, f.probation, split, values, windows))
    return view


def peer_view(
    peers: Path, corpus: Path, view: list[FeedbackFile]
) -> dict[str, dict[str, Detections]]:
    """Peers' detections {detector: {profile: {file: rows}}}, rows >= split dropped."""
    splits = {f.name: f.split for f in view}
    rows = load_peers(peers, load_corpus(corpus))
    return {
        peer: {
            profile: {name: found[found < splits[name]] for name, found in by_file.items()}
            for profile, by_file in by_profile.items()
        }
        for peer, by_profile in rows.items()
    }


def series_feedback(
    view: list[FeedbackFile], baseline: Detections, nested: bool
) -> list[SeriesFeedback]:
    """What a learner may see: labels ending before the end (m or s), verdicts on (a)'s alerts."""
    items = []
    for f in view:
        end = f.nested_split if nested else f.split
        windows = tuple(LabelWindow(left, right) for left, right in f.windows if right < end)
        inside = np.zeros(end, dtype=bool)
        for w in windows:
            inside[w.start_index : w.end_index + 1] = True
        alerts = baseline[f.name][baseline[f.name] < end]
        verdicts = tuple(FalsePositiveVerdict(int(r)) for r in alerts if not inside[r])
        items.append(
            SeriesFeedback(
                f.name, f.values, end, windows, verdicts, warmup=f.probation, group=f.group
            )
        )
    return items


def detect_all(
    detector: Detector, view: list[FeedbackFile], feedback: list[SeriesFeedback] | None
) -> Detections:
    """Detections on each file's feedback rows from its probation on."""
    return {
        f.name: detector.detect(
            f.values, feedback=feedback[k] if feedback else None, start_row=f.probation
        )
        for k, f in enumerate(view)
    }


def scores(
    view: list[FeedbackFile], found: Detections, profile: CostProfile
) -> dict[str, CorpusScore]:
    """Nested score (rows [m, s)), feedback score (rows [p, s)) and the two halves of it."""
    truths = [f.truth for f in view]
    middles = {f.name: f.nested_split for f in view}
    early = {name: rows[rows < middles[name]] for name, rows in found.items()}
    early_truths = [
        FileTruth(f.name, f.n_rows, tuple(w for w in f.windows if w[1] < f.nested_split))
        for f in view
    ]
    return {
        "nested": score_corpus(truths, found, profile, first_scored_rows=middles),
        "feedback": score_corpus(truths, found, profile),
        "first_half": score_corpus(early_truths, early, profile),
    }


def paired_difference(
    view: list[FeedbackFile], candidate: CorpusScore, default: CorpusScore, profile: CostProfile
) -> tuple[float, float, float]:
    """Normalised score difference with its 95% bootstrap interval over files."""
    lift = score_lift((f.name for f in view), candidate, default, profile.fn)
    return lift["estimate"], lift["low"], lift["high"]


def run(
    view: list[FeedbackFile], learners: list[str]
) -> dict[str, dict[str, dict[str, CorpusScore]]]:
    """{learner: {profile: {figure: score}}}; the nested figure learns from rows < m only."""
    baseline = detect_all(SurpriseEnsemble(), view, None)
    nested_fb = series_feedback(view, baseline, nested=True)
    full_fb = series_feedback(view, baseline, nested=False)
    results: dict[str, dict[str, dict[str, CorpusScore]]] = {"defaults (a)": {}}
    for name, profile in nab_profiles().items():
        results["defaults (a)"][name] = scores(view, baseline, profile)
    for learner in learners:
        results[learner] = {}
        for name, profile in nab_profiles().items():
            weights = {"tp_weight": profile.tp, "fn_weight": profile.fn, "fp_weight": profile.fp}
            nested_model = make_detector(learner, **weights).fit(nested_fb)
            nested = scores(view, detect_all(nested_model, view, nested_fb), profile)
            full_model = make_detector(learner, **weights).fit(full_fb)
            full = scores(view, detect_all(full_model, view, full_fb), profile)
            results[learner][name] = {
                "nested": nested["nested"],
                "feedback": full["feedback"],
                "first_half": full["first_half"],
                "late_in_sample": full["nested"],
            }
    return results


def main() -> None:
    """Parse options, score every learner (and peers) on the feedback period, print tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=REPO_ROOT / "../shared/datasets/nab")
    parser.add_argument(
        "--peers",
        type=Path,
        default=REPO_ROOT / "../shared/datasets/nab-peers/nab_peer_detections.json",
        help="peer detections JSON; pass 'none' to skip peers",
    )
    parser.add_argument(
        "--learners", nargs="+", default=["record_aware_ensemble"], choices=detector_names()
    )
    args = parser.parse_args()
    started = time.perf_counter()
    view = feedback_view(args.corpus.resolve())
    results = run(view, args.learners)
    if str(args.peers).lower() != "none":
        peers = peer_view(args.peers.resolve(), args.corpus.resolve(), view)
        for peer, found in sorted(peers.items()):
            results[f"peer {peer}"] = {
                name: scores(view, found[name], profile)
                for name, profile in nab_profiles().items()
                if name in found
            }
    profiles = nab_profiles()
    windows = sum(len(f.windows) for f in view)
    nested_windows = sum(1 for f in view for w in f.windows if w[1] >= f.nested_split)
    print(
        f"{len(view)} files; nested: rows [m, s), {nested_windows} windows; "
        f"feedback: rows [p, s), {windows} windows"
    )
    print(
        f"{'std / low FP / low FN':<34}{'nested':>24}{'feedback':>24}"
        f"{'first half':>24}{'late in-sample':>24}"
    )
    for learner, by_profile in results.items():
        cells = []
        for figure in ("nested", "feedback", "first_half", "late_in_sample"):
            if all(figure in by_profile.get(p, {}) for p in profiles):
                cells.append(
                    " / ".join(f"{by_profile[p][figure].normalised:6.2f}" for p in profiles)
                )
            else:
                cells.append("")
        print(f"{learner:<34}" + "".join(f"{c:>24}" for c in cells))
    default = args.learners[0]
    for learner in args.learners[1:]:
        for figure in ("nested", "feedback"):
            parts = []
            for name, profile in profiles.items():
                est, low, high = paired_difference(
                    view, results[learner][name][figure], results[default][name][figure], profile
                )
                parts.append(f"{est:+.2f} [{low:+.2f}, {high:+.2f}]")
            print(f"{learner} - {default}, {figure}: " + " / ".join(parts))
    print(f"runtime {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
