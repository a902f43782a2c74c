"""B1: NAB feedback protocol (BENCHMARKS.md). Writes --out JSON and prints a short table."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lessonloop.services.benchmark_nab import B1_LEARNERS, DEFAULT_LEARNER, run_b1

REPO_ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    """Parse options, run B1, write the JSON and print the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=REPO_ROOT / "../shared/datasets/nab")
    parser.add_argument(
        "--peers",
        type=Path,
        default=REPO_ROOT / "../shared/datasets/nab-peers/nab_peer_detections.json",
        help="peer detections JSON; pass 'none' to skip peers",
    )
    parser.add_argument("--out", type=Path, default=Path("b1_nab.json"))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--dask-scheduler", default=None, help="dask.distributed address")
    parser.add_argument("--learner", choices=B1_LEARNERS, default=DEFAULT_LEARNER)
    args = parser.parse_args()
    peers = None if str(args.peers).lower() == "none" else args.peers
    document = run_b1(
        args.corpus.resolve(),
        peers.resolve() if peers else None,
        jobs=args.jobs,
        dask_scheduler=args.dask_scheduler,
        learner=args.learner,
        progress=lambda message: print(f"  {message}", flush=True),
    )
    args.out.write_text(json.dumps(document, indent=1))
    results = document["results"]
    print(f"B1 on {document['corpus']}: {results['files']} files, {results['rows']} rows")
    header = f"{'profile':<20}{'(a) holdout':>12}{'(b) holdout':>12}{'lift [95% CI]':>26}"
    print(header + f"{'(d) full':>10}{'ARTime':>9}")
    for name, entry in results["profiles"].items():
        lift = entry["lift"]
        interval = f"{lift['estimate']:+.2f} [{lift['low']:+.2f}, {lift['high']:+.2f}]"
        artime = entry["peers_holdout"].get("ARTime", float("nan"))
        print(
            f"{name:<20}{entry['without_feedback']['holdout']:>12.2f}"
            f"{entry['with_feedback']['holdout']:>12.2f}{interval:>26}"
            f"{entry['without_feedback']['full_corpus']:>10.2f}{artime:>9.2f}"
        )
    print(
        f"runtime {results['runtime_seconds']:.1f} s, peak RSS {results['peak_rss_mib']:.0f} MiB, "
        f"backend {results['backend']}; written to {args.out}"
    )
    for warning in document["warnings"]:
        print(f"warning: {warning}", file=sys.stderr)


if __name__ == "__main__":
    main()
