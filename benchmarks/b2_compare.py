"""Compare two B2 results document by document: macro-F1 difference with a paired bootstrap.

python benchmarks/b2_compare.py before.json after.json
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from lessonloop.text.scoring import label_matrix


def _macro_f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    """Macro-F1 over labels (documents x labels x repeats averaged over repeats)."""
    tp = (truth[..., None] & predicted).sum(axis=0)
    denominator = truth.sum(axis=0)[:, None] + predicted.sum(axis=0)
    per_label = np.divide(2 * tp, denominator, out=np.zeros(tp.shape), where=denominator > 0)
    return float(per_label.mean(axis=0).mean())


def compare(before: dict, after: dict, *, resamples: int = 2000, seed: int = 0) -> list[dict]:
    """Per curve fraction: both macro-F1s and the 95 % interval of after minus before."""
    if before["raw"]["documents"] != after["raw"]["documents"]:
        raise SystemExit("the two results score different documents")
    labels = before["config"]["labels"]
    truth = label_matrix(before["raw"]["truth"], labels)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(truth), size=(resamples, len(truth)))
    rows = []
    for step in before["results"]["curve"]:
        key = f"default@{step['fraction']}"
        runs = [
            np.stack([label_matrix(r, labels) for r in result["raw"]["predictions"][key]], -1)
            for result in (before, after)
        ]
        first, second = (_macro_f1(truth, run) for run in runs)
        draws = [_macro_f1(truth[i], runs[1][i]) - _macro_f1(truth[i], runs[0][i]) for i in picks]
        low, high = np.quantile(draws, [0.025, 0.975])
        rows.append(
            {
                "fraction": step["fraction"],
                "before": first,
                "after": second,
                "difference": second - first,
                "low": float(low),
                "high": float(high),
            }
        )
    return rows


def main(argv: list[str] | None = None) -> int:
    """Print one line per curve fraction."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args(argv)
    rows = compare(*(json.loads(p.read_text(encoding="utf-8")) for p in (args.before, args.after)))
    for row in rows:
        print(
            f"{row['fraction']:5.0%}  {row['before']:.3f} -> {row['after']:.3f}  "
            f"diff {row['difference']:+.3f}  95% [{row['low']:+.3f}, {row['high']:+.3f}]"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
