"""B2: failure-mode classification learning curve and precedent retrieval on postmortems.

python benchmarks/b2_text.py --out b2.json
python benchmarks/b2_text.py --train-corpus DIR_A --test-corpus DIR_B --out b2.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from lessonloop.errors import LessonloopError
from lessonloop.services.benchmark_text import run_b2
from lessonloop.text.frontmatter import DOCUMENT_TEXT_MODES

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = REPO_ROOT.parent / "shared" / "datasets" / "postmortems" / "data"


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run B2, print a table and write the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--train-corpus", type=Path)
    parser.add_argument("--test-corpus", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--semantic", action="store_true", help="also measure sentence embeddings")
    parser.add_argument(
        "--classifier-params",
        type=json.loads,
        default={},
        help="JSON of FailureModeClassifier arguments, e.g. '{\"min_positive\": 5}'",
    )
    parser.add_argument(
        "--document-text",
        choices=DOCUMENT_TEXT_MODES,
        default="title+summary",
        help="classifier text: title+summary (the B2 protocol) or all-fields (keywords, body)",
    )
    parser.add_argument(
        "--extra-cv-seeds",
        type=int,
        default=0,
        help="also run this many more fold splits (seed+1, ...) and report the curve's spread",
    )
    parser.add_argument("--out", type=Path, help="write the JSON result here")
    args = parser.parse_args(argv)
    split_mode = args.train_corpus is not None or args.test_corpus is not None
    params = {k: tuple(v) if isinstance(v, list) else v for k, v in args.classifier_params.items()}

    def run(seed: int) -> dict[str, Any]:
        return run_b2(
            None if split_mode else args.corpus,
            train_corpus=args.train_corpus,
            test_corpus=args.test_corpus,
            seed=seed,
            semantic=args.semantic,
            classifier_params=params,
            progress=lambda message: print(message, file=sys.stderr),
            document_text=args.document_text,
        )

    try:
        result = run(args.seed)
        if args.extra_cv_seeds > 0 and not split_mode:
            extra = [run(args.seed + i) for i in range(1, args.extra_cv_seeds + 1)]
            result["results"]["over_cv_seeds"] = curve_over_seeds([result, *extra])
    except LessonloopError as error:
        print(f"error: {error}", file=sys.stderr)
        return getattr(error, "exit_code", 1)
    print_table(result)
    for warning in result["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)
    if args.out:
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


def curve_over_seeds(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Macro- and micro-F1 per fold split (CV seed) and their mean, per curve fraction."""
    per_seed = {
        metric: [[step[metric] for step in r["results"]["curve"]] for r in results]
        for metric in ("macro_f1", "micro_f1")
    }
    return {
        "seeds": [r["config"]["seed"] for r in results],
        "fractions": [step["fraction"] for step in results[0]["results"]["curve"]],
        "per_seed": per_seed,
        "mean": {
            metric: [round(sum(column) / len(column), 4) for column in zip(*rows, strict=True)]
            for metric, rows in per_seed.items()
        },
        "runtime_seconds": round(sum(r["runtime_seconds"] for r in results), 2),
    }


def print_table(result: dict[str, Any]) -> None:
    """Short human-readable summary of a B2 result."""
    data, results = result["data"], result["results"]
    print(f"B2 on {data['documents']} documents ({data['labeled']} labelled)")
    labels = result["config"]["labels"]
    print(f"{'labels':>7} {'micro':>6} {'macro':>6}  " + " ".join(f"{x[:8]:>8}" for x in labels))
    for variant, curve in results["curve_variants"].items():
        print(f"classifier: {variant}")
        for step in curve:
            per = " ".join(f"{step['per_category_f1'][x]:8.3f}" for x in labels)
            print(f"{step['fraction']:7.0%} {step['micro_f1']:6.3f} {step['macro_f1']:6.3f}  {per}")
    every = results["baseline_predict_every_label"]
    print(f"{'all':>7} {every['micro_f1']:6.3f} {every['macro_f1']:6.3f}  (predict every label)")
    print(f"curve strictly increasing: {results['curve_strictly_increasing']}")
    for variant, scores in results["retrieval"]["variants"].items():
        print(f"retrieval {variant:12} P@5 {scores['precision_at_5']:.3f}  MRR {scores['mrr']:.3f}")
    print(f"anchor RCACopilot macro-F1 0.53; runtime {result['runtime_seconds']} s")
    spread = results.get("over_cv_seeds")
    if spread:
        print(f"macro-F1 per CV seed {spread['seeds']} (fractions {spread['fractions']}):")
        for seed, row in zip(spread["seeds"], spread["per_seed"]["macro_f1"], strict=True):
            print(f"  seed {seed}: " + " / ".join(f"{x:.3f}" for x in row))
        print("  mean:   " + " / ".join(f"{x:.3f}" for x in spread["mean"]["macro_f1"]))


if __name__ == "__main__":
    sys.exit(main())
