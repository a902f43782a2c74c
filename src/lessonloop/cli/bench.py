"""``lessonloop bench``: the benchmark protocols of the project (B1 NAB, B2 incident text)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from lessonloop.cli.common import (
    check_out,
    console,
    handle_errors,
    print_table,
    say_warning,
    settings,
    write_atomically,
)
from lessonloop.errors import InputError

app = typer.Typer(
    help="Run the benchmark protocols B1 (NAB) and B2 (incident text).", no_args_is_help=True
)
SHARED = Path("..") / "shared" / "datasets"


def write_result(out: Path, result: dict[str, Any]) -> None:
    """Write the JSON result whole or not at all (a temporary file renamed into place)."""
    write_atomically(out, json.dumps(result, indent=1, default=str))
    console.print(f"wrote {escape(str(out))}", highlight=False, soft_wrap=True)


@app.command("nab")
@handle_errors
def nab(
    corpus: Annotated[Path, typer.Option(help="A NAB-layout corpus.")] = SHARED / "nab",
    peers: Annotated[Path | None, typer.Option(help="Published peer detections (JSON).")] = (
        SHARED / "nab-peers" / "nab_peer_detections.json"
    ),
    jobs: Annotated[int, typer.Option(min=1)] = 2,
    out: Annotated[Path | None, typer.Option(help="Write the re-scorable JSON result.")] = None,
    learner: Annotated[
        str,
        typer.Option(
            help="Feedback learner: record_aware_ensemble (default), sequence_aware_ensemble "
            "(adds window novelty; about 40x slower) or feedback_calibrated_ensemble."
        ),
    ] = "record_aware_ensemble",
) -> None:
    """B1: NAB holdout with and without feedback, peers side by side."""
    from lessonloop.services.benchmark_nab import run_b1

    if out:
        check_out(out)
    if not corpus.is_dir():
        raise InputError(
            f"no corpus folder at {corpus}; pass --corpus DIR (a NAB-layout folder with data/ and "
            "labels/combined_windows.json)",
            field="corpus",
        )
    default_peers = SHARED / "nab-peers" / "nab_peer_detections.json"
    if peers is not None and not peers.exists() and peers != default_peers:
        raise InputError(f"no peers file at {peers}", field="peers")
    result = run_b1(
        corpus,
        peers if peers and peers.exists() else None,
        jobs=jobs,
        dask_scheduler=settings().dask_scheduler,
        learner=learner,
        progress=lambda message: console.print(f"[dim]{escape(message)}[/]"),
    )
    rows = []
    for profile, figures in result["results"]["profiles"].items():
        lift = figures["lift"]
        best_peer = max(figures["peers_holdout"].items(), key=lambda kv: kv[1], default=("-", None))
        rows.append(
            (
                profile,
                round(figures["without_feedback"]["holdout"], 2),
                round(figures["with_feedback"]["holdout"], 2),
                f"{lift['estimate']:+.2f} [{lift['low']:+.2f}, {lift['high']:+.2f}] "
                f"{lift['verdict']}",
                round(figures["without_feedback"]["full_corpus"], 2),
                f"{best_peer[0]} {best_peer[1]:.2f}" if best_peer[1] else "-",
            )
        )
    print_table(
        "B1 holdout scores",
        [
            "profile",
            "(a) no feedback",
            "(b) feedback",
            "(b)-(a) 95% CI",
            "(d) full corpus (a)",
            "best peer",
        ],
        rows,
    )
    for name, steps in result["results"].get("timestamp_warnings", {}).items():
        say_warning(
            f"{name}: {steps} timestamp(s) repeat or go back in time; rows are scored in file "
            "order, as NAB does (timestamp_warnings in the JSON)"
        )
    for warning in result.get("warnings", []):
        say_warning(warning)
    if out:
        write_result(out, result)


@app.command("text")
@handle_errors
def text(
    corpus: Annotated[Path | None, typer.Option(help="Front-matter postmortems folder.")] = (
        SHARED / "postmortems" / "data"
    ),
    train_corpus: Annotated[Path | None, typer.Option()] = None,
    test_corpus: Annotated[Path | None, typer.Option()] = None,
    seed: int = 7,
    semantic: Annotated[bool, typer.Option(help="Also run the semantic extra.")] = False,
    out: Annotated[Path | None, typer.Option()] = None,
) -> None:
    """B2: failure-mode learning curve and precedent retrieval."""
    from lessonloop.services.benchmark_text import run_b2

    if out:
        check_out(out)
    result = run_b2(
        None if train_corpus else corpus,
        train_corpus=train_corpus,
        test_corpus=test_corpus,
        seed=seed,
        semantic=semantic,
        progress=lambda *a: None,
    )
    curve = result["results"]["curve"]
    print_table(
        "B2 learning curve",
        ["labels", "micro-F1", "macro-F1"],
        [
            (f"{int(p['fraction'] * 100)} %", round(p["micro_f1"], 3), round(p["macro_f1"], 3))
            for p in curve
        ],
    )
    retrieval = result["results"]["retrieval"]
    console.print(
        f"retrieval: precision@5 {retrieval['precision_at_5']:.3f}, MRR {retrieval['mrr']:.3f}"
    )
    for warning in result["warnings"]:
        say_warning(warning)  # one line each, however long the file names
    if out:
        write_result(out, result)
