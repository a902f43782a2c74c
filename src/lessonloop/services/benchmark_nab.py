"""B1: NAB feedback protocol runner (BENCHMARKS.md): detectors with and without feedback vs peers.

Corpus layout: ``DIR/data/<category>/<file>.csv`` (``timestamp,value``; ``.CSV`` too) and
``DIR/labels/combined_windows.json``, whose keys are the paths below data/ exactly as written.
CSV files elsewhere under data/ are not read and are named in the result's ``warnings`` (a
labels entry naming one is refused, saying why). Input rules, checked before anything runs:

- rejected with InputError naming file and line (where the row starts; a quoted cell may hold
  line breaks): a malformed CSV record, a byte that is not UTF-8, an unparsable or
  empty timestamp, a value that is not a number, NaN or infinite, a file with fewer than 2
  rows, a data file without an entry in the labels, a labelled file without data, overlapping
  windows, a missing labels file, a labels file that is not an object of file -> list of
  ``[start, end]`` string pairs, a window whose start is after its end, that lies outside its
  file's time range or covers no row; a peers file without ``detectors`` or with a profile
  entry without ``detections``;
- accepted as they are: gaps in time (rows are scored as rows, as NAB does), duplicate or
  backward timestamps (kept in file order, as NAB itself has them around clock changes;
  counted per file in ``results["timestamp_warnings"]``; a repeated timestamp in the output
  refers to its first row), constant series (the detectors stay silent), windows given in
  any order (sorted).
"""

from __future__ import annotations

import io
import json
import re
import resource
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed, parallel_config

from lessonloop.detectors import (
    Detector,
    FalsePositiveVerdict,
    FeedbackCalibratedEnsemble,
    LabelWindow,
    SeriesFeedback,
    SurpriseEnsemble,
    make_detector,
)
from lessonloop.errors import ConfigurationError, InputError
from lessonloop.evaluation import (
    FileTruth,
    bootstrap_interval,
    holdout_split,
    nab_profiles,
    paired_comparison,
    probation_length,
    score_corpus,
    timestamps_to_rows,
    window_rows,
)
from lessonloop.ingest.series_csv import csv_records

__all__ = [
    "B1_LEARNERS",
    "DEFAULT_LEARNER",
    "CorpusFile",
    "b1_feedback",
    "load_corpus",
    "load_peers",
    "run_b1",
    "score_lift",
]

DEFAULT_LEARNER = "record_aware_ensemble"
# NAB's timestamps: a date, then optionally a time; no offset (a corpus is in one clock). NumPy
# would read epoch seconds as a year and "now" as the clock, so anything else is refused.
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?)?")
TIMESTAMP_FORM = "'YYYY-MM-DD HH:MM:SS' without an offset, as NAB writes them"


def _timestamp_problem(stamp: str) -> str | None:
    """Why a cell is not a NAB timestamp, or None."""
    if _TIMESTAMP.fullmatch(stamp.strip()):
        return None
    if stamp.strip().replace(".", "", 1).isdigit():
        return f"{stamp!r} looks like epoch seconds; write {TIMESTAMP_FORM}"
    return f"{stamp!r} is not a timestamp: write {TIMESTAMP_FORM}"


B1_LEARNERS = (
    "record_aware_ensemble",
    "sequence_aware_ensemble",
    "feedback_calibrated_ensemble",
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class CorpusFile:
    """One series of a NAB-layout corpus with its labels as rows."""

    name: str
    timestamps: tuple[str, ...]
    values: np.ndarray
    truth: FileTruth
    backward_steps: int = 0

    @property
    def split(self) -> int:
        """First holdout row."""
        return holdout_split(self.truth.n_rows, self.truth.windows)

    @property
    def probation(self) -> int:
        """Rows NAB does not score."""
        return probation_length(self.truth.n_rows)


def _utf8_text(path: Path, name: str) -> str:
    """The file's text; a byte that is not UTF-8 raises InputError naming file and line."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text ({error.reason})", file=name, line=line) from None


def _read_series(path: Path, name: str) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Parse one CSV; every problem names the file and the 1-based line."""
    stamps: list[str] = []
    values: list[float] = []
    lines: list[int] = []  # where each row starts: a quoted cell may span lines
    with io.StringIO(_utf8_text(path, name), newline="") as handle:
        records = csv_records(handle, name)
        _, header = next(records, (1, None))
        if header is None or [h.strip() for h in header] != ["timestamp", "value"]:
            raise InputError("header must be 'timestamp,value'", file=name, line=1)
        for line, row in records:
            if len(row) != 2:
                raise InputError(
                    f"expected 2 cells (timestamp,value), got {len(row)}", file=name, line=line
                )
            try:
                value = float(row[1])
            except ValueError:
                raise InputError(
                    f"not a number: {row[1]!r}", file=name, line=line, field="value"
                ) from None
            if not np.isfinite(value):
                raise InputError("value is NaN or infinite", file=name, line=line, field="value")
            problem = _timestamp_problem(row[0]) if row[0].strip() else None
            if problem:
                raise InputError(problem, file=name, line=line, field="timestamp")
            stamps.append(row[0])
            values.append(value)
            lines.append(line)
    if len(stamps) < 2:
        raise InputError("a series needs at least 2 rows", file=name)
    try:
        parsed = np.array(stamps, dtype="datetime64[ns]")
    except ValueError:
        for line, stamp in zip(lines, stamps, strict=True):
            try:
                np.datetime64(stamp, "ns")
            except ValueError:
                raise InputError(
                    f"bad timestamp {stamp!r}", file=name, line=line, field="timestamp"
                ) from None
        raise
    missing = np.flatnonzero(np.isnat(parsed))
    if missing.size:
        raise InputError(
            f"empty or missing timestamp {stamps[missing[0]]!r}",
            file=name,
            line=lines[int(missing[0])],
            field="timestamp",
        )
    return tuple(stamps), np.asarray(values, dtype=np.float64), parsed


LABELS_SHAPE = 'an object mapping each data file to a list of ["start", "end"] timestamp pairs'


def _read_labels(labels_path: Path) -> dict[str, list[tuple[str, str]]]:
    """The labels file as {file: [(start, end), ...]}; any other shape raises InputError."""
    try:
        labels = json.loads(labels_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise InputError(
            f"invalid JSON: {error.msg}", file=str(labels_path), line=error.lineno
        ) from error
    except UnicodeDecodeError as error:
        raise InputError(f"not UTF-8 text ({error.reason})", file=str(labels_path)) from None
    if not isinstance(labels, dict):
        raise InputError(
            f"must be {LABELS_SHAPE}, not a JSON {type(labels).__name__}", file=str(labels_path)
        )
    for name, windows in labels.items():
        pairs = windows if isinstance(windows, list) else [None]
        for window in pairs:
            if not (
                isinstance(window, list)
                and len(window) == 2
                and all(isinstance(w, str) for w in window)
            ):
                raise InputError(
                    f"must be {LABELS_SHAPE}; got {json.dumps(windows)[:80]}",
                    file=str(labels_path),
                    field=name,
                )
    return {name: [(w[0], w[1]) for w in windows] for name, windows in labels.items()}


def _label_rows(
    parsed: np.ndarray, windows: list[tuple[str, str]], labels_path: Path, name: str
) -> tuple[tuple[int, int], ...]:
    """Label windows as rows; each must parse, be ordered and cover at least one row."""
    first, last = parsed.min(), parsed.max()
    for start, end in windows:
        where = f"label window [{start!r}, {end!r}] of {name}"
        problems = [_timestamp_problem(t) for t in (start, end) if t.strip()]
        problem = next((p for p in problems if p), None)
        if problem:
            raise InputError(f"{where}: {problem}", file=str(labels_path), field=name)
        try:
            left, right = np.datetime64(start, "ns"), np.datetime64(end, "ns")
        except ValueError:
            raise InputError(f"{where}: bad timestamp", file=str(labels_path), field=name) from None
        if np.isnat(left) or np.isnat(right):
            raise InputError(f"{where}: empty timestamp", file=str(labels_path), field=name)
        if left > right:
            raise InputError(f"{where}: start is after end", file=str(labels_path), field=name)
        if right < first or left > last:
            raise InputError(
                f"{where}: outside the file's time range [{first}, {last}]",
                file=str(labels_path),
                field=name,
            )
        if not window_rows(parsed, [(start, end)]):
            raise InputError(
                f"{where}: no row of the file falls inside it", file=str(labels_path), field=name
            )
    return window_rows(parsed, windows)


def _data_files(data_dir: Path) -> tuple[list[str], dict[str, str]]:
    """The data files (``CATEGORY/FILE.csv``, the suffix in any case) as the labels name them,
    and the other CSV files under data/ with why they are not read."""
    names: list[str] = []
    ignored: dict[str, str] = {}
    for path in sorted(data_dir.rglob("*")):
        if path.suffix.lower() != ".csv" or not path.is_file():
            continue
        relative = path.relative_to(data_dir)
        if len(relative.parts) == 2:
            names.append(relative.as_posix())
        else:
            where = "not in a category folder" if len(relative.parts) == 1 else "too deep"
            ignored[relative.as_posix()] = (
                f"{where}: only data/<category>/<file>.csv files are read"
            )
    return names, ignored


def load_corpus(corpus: Path, warnings: list[str] | None = None) -> list[CorpusFile]:
    """Read and validate a NAB-layout corpus (see the module docstring for the rules).

    CSV files under data/ that are not read (not one folder deep) are named in ``warnings``.
    """
    labels_path = corpus / "labels" / "combined_windows.json"
    if not labels_path.is_file():
        raise InputError("labels/combined_windows.json not found", file=str(corpus))
    labels = _read_labels(labels_path)
    data_dir = corpus / "data"
    names, ignored = _data_files(data_dir)
    if not names:
        problem = "no data/<category>/<file>.csv files"
        if ignored:
            problem += f"; {len(ignored)} other CSV file(s) not read, e.g. {min(ignored)}"
        raise InputError(problem, file=str(corpus))
    unlabelled = sorted(set(names) - set(labels))
    if unlabelled:
        problem = "data file has no entry in the labels"
        spelt = [n for n in labels if n.lower() == unlabelled[0].lower()]
        if spelt:
            problem += f" (the labels have {spelt[0]!r}: names match exactly, case included)"
        raise InputError(problem, file=unlabelled[0])
    orphans = sorted(set(labels) - set(names))
    if orphans:
        why = ignored.get(orphans[0])
        problem = f"labelled file is not read ({why})" if why else "labelled file has no data"
        raise InputError(problem, file=orphans[0])
    if warnings is not None:
        warnings += [f"{name}: not read ({why})" for name, why in ignored.items()]
    files = []
    for name in names:
        stamps, values, parsed = _read_series(data_dir / name, name)
        windows = _label_rows(parsed, labels[name], labels_path, name)
        for (_, right), (left, _) in zip(windows, windows[1:], strict=False):
            if left <= right:
                raise InputError("label windows overlap", file=str(labels_path), field=name)
        backward = int(np.count_nonzero(np.diff(parsed).astype(np.int64) <= 0))
        truth = FileTruth(name, len(stamps), windows)
        files.append(CorpusFile(name, stamps, values, truth, backward))
    return files


PEERS_SHAPE = '{"detectors": {DETECTOR: {PROFILE: {"detections": {FILE: [TIMESTAMP, ...]}}}}}'


def _read_peers(peers: Path) -> dict[str, dict[str, dict[str, list[str]]]]:
    """The peers file's {detector: {profile: {file: timestamps}}}; bad shapes raise InputError."""
    try:
        document = json.loads(peers.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InputError(f"cannot read peer detections: {error}", file=str(peers)) from None

    def bad(where: str, problem: str) -> InputError:
        return InputError(f"{where}: {problem}; expected {PEERS_SHAPE}", file=str(peers))

    if not isinstance(document, dict) or "detectors" not in document:
        raise bad("top level", "missing key 'detectors'")
    detectors = document["detectors"]
    if not isinstance(detectors, dict):
        raise bad("'detectors'", f"must be an object, not a JSON {type(detectors).__name__}")
    result: dict[str, dict[str, dict[str, list[str]]]] = {}
    for detector, by_profile in detectors.items():
        if not isinstance(by_profile, dict):
            raise bad(f"detectors.{detector}", "must be an object of profiles")
        result[detector] = {}
        for profile, entry in by_profile.items():
            where = f"detectors.{detector}.{profile}"
            if not isinstance(entry, dict) or "detections" not in entry:
                raise bad(where, "missing key 'detections'")
            found = entry["detections"]
            if not isinstance(found, dict) or not all(
                isinstance(stamps, list) and all(isinstance(t, str) for t in stamps)
                for stamps in found.values()
            ):
                raise bad(f"{where}.detections", "must map files to lists of timestamps")
            result[detector][profile] = found
    return result


def load_peers(peers: Path, files: list[CorpusFile]) -> dict[str, dict[str, dict[str, Any]]]:
    """Peer detections as rows: {detector: {profile: {file: rows}}}; unknown files are ignored."""
    detectors = _read_peers(peers)
    stamps = {f.name: np.array(f.timestamps, dtype="datetime64[ns]") for f in files}
    result: dict[str, dict[str, dict[str, Any]]] = {}
    for detector, by_profile in detectors.items():
        result[detector] = {}
        for profile, by_file in by_profile.items():
            rows = {}
            for name, found in by_file.items():
                if name in stamps:
                    try:
                        rows[name] = timestamps_to_rows(stamps[name], found)
                    except ValueError as error:
                        raise InputError(str(error), file=str(peers), field=name) from None
            result[detector][profile] = rows
    return result


def _detect(
    detector: Detector, values: np.ndarray, start: int, feedback: SeriesFeedback | None
) -> np.ndarray:
    """One file's detections (a top-level function so joblib and Dask can ship it)."""
    return detector.detect(values, feedback=feedback, start_row=start)


def _detect_all(
    detector: Detector, files: list[CorpusFile], feedback: list[SeriesFeedback] | None, jobs: int
) -> dict[str, np.ndarray]:
    tasks = (
        delayed(_detect)(detector, f.values, f.probation, feedback[k] if feedback else None)
        for k, f in enumerate(files)
    )
    found = Parallel(n_jobs=jobs)(tasks)
    return {f.name: rows for f, rows in zip(files, found, strict=True)}


def b1_feedback(files: list[CorpusFile], baseline: dict[str, np.ndarray]) -> list[SeriesFeedback]:
    """What a learner may see: labels ending before the split, and verdicts on its own alerts."""
    items = []
    for f in files:
        windows = tuple(
            LabelWindow(left, right) for left, right in f.truth.windows if right < f.split
        )
        inside = np.zeros(f.split, dtype=bool)
        for w in windows:
            inside[w.start_index : w.end_index + 1] = True
        alerts = baseline[f.name][baseline[f.name] < f.split]
        verdicts = tuple(FalsePositiveVerdict(int(r)) for r in alerts if not inside[r])
        items.append(
            SeriesFeedback(
                f.name,
                f.values,
                f.split,
                windows,
                verdicts,
                warmup=f.probation,
                group=f.name.split("/")[0],
            )
        )
    return items


def _peak_rss_mib() -> float:
    scale = 1.0 if sys.platform == "darwin" else 1024.0
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) * scale / 2**20


def score_lift(names: Iterable[str], with_fb: Any, without: Any, fn: float) -> dict[str, Any]:
    """Bootstrap over files of a normalised score difference (b) - (a), with a paired test.

    ``with_fb`` and ``without`` are `CorpusScore`s of the same rows and windows (the holdout
    in B1; the feedback period in benchmarks/b1_nested.py).
    """
    units = np.array(
        [
            [
                with_fb.per_file[name].raw,
                without.per_file[name].raw,
                with_fb.per_file[name].counted_windows,
            ]
            for name in names
        ]
    )

    def normalised(rows: np.ndarray) -> float:
        span = (1.0 + fn) * rows[:, 2].sum()
        return float(100.0 * (rows[:, 0] - rows[:, 1]).sum() / span) if span else 0.0

    interval = bootstrap_interval(units, normalised, seed=20240601)
    zeros = units.copy()
    zeros[:, 0] = zeros[:, 1]
    test = paired_comparison(units, zeros, normalised, seed=20240601)
    return {
        "estimate": interval.estimate,
        "low": interval.low,
        "high": interval.high,
        "p_value": test.p_value,
        "verdict": test.verdict,
    }


def run_b1(
    corpus: Path,
    peers: Path | None,
    *,
    jobs: int = 1,
    dask_scheduler: str | None = None,
    progress: Progress | None = None,
    learner: str = DEFAULT_LEARNER,
) -> dict[str, Any]:
    """Run protocol B1 on a NAB-layout corpus; returns the --out JSON document.

    `learner` names the feedback learner (one of B1_LEARNERS); the default is the one whose
    figures the README quotes.

    Per-file scoring runs on `jobs` local processes, or on the Dask cluster at `dask_scheduler`
    (ConfigurationError when unreachable); the learners' fit runs in the caller. `progress`
    receives one short message per step. Bad corpus input raises InputError (module docstring).
    """
    if learner not in B1_LEARNERS:
        raise InputError(
            f"unknown learner {learner!r}; choose one of {', '.join(B1_LEARNERS)}", field="learner"
        )
    say = progress or (lambda message: None)
    started = time.perf_counter()
    warnings: list[str] = []
    files = load_corpus(corpus, warnings)
    say(f"loaded {len(files)} files, {sum(f.truth.n_rows for f in files)} rows")
    peer_rows = load_peers(peers, files) if peers else {}
    truths = [f.truth for f in files]
    splits = {f.name: f.split for f in files}
    context: Any = nullcontext()
    if dask_scheduler:
        from dask.distributed import Client

        try:
            client = Client(dask_scheduler, timeout="10s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError) as error:
            raise ConfigurationError(
                f"cannot reach the Dask scheduler at {dask_scheduler}: {error}"
            ) from None
        context = parallel_config(backend="dask")
    else:
        client = None
    try:
        with context:
            baseline = _detect_all(SurpriseEnsemble(), files, None, jobs)
            say("scored without feedback")
            feedback = b1_feedback(files, baseline)
            learned = {}
            for name, profile in nab_profiles().items():
                model = make_detector(
                    learner, tp_weight=profile.tp, fn_weight=profile.fn, fp_weight=profile.fp
                )
                if not isinstance(model, FeedbackCalibratedEnsemble):
                    raise InputError(f"{learner!r} is not a feedback learner", field="learner")
                model.fit(feedback)
                learned[name] = (model, _detect_all(model, files, feedback, jobs))
                say(f"learned and scored with feedback ({name})")
    finally:
        if client is not None:
            client.close()  # type: ignore[no-untyped-call]
    results: dict[str, Any] = {"files": len(files), "rows": sum(f.truth.n_rows for f in files)}
    profiles: dict[str, Any] = {}
    for name, profile in nab_profiles().items():
        model, detected = learned[name]
        without = score_corpus(truths, baseline, profile, first_scored_rows=splits)
        with_fb = score_corpus(truths, detected, profile, first_scored_rows=splits)
        peers_scored = {
            peer: score_corpus(
                truths, by_profile[name], profile, first_scored_rows=splits
            ).normalised
            for peer, by_profile in peer_rows.items()
            if name in by_profile
        }
        profiles[name] = {
            "without_feedback": {
                "holdout": without.normalised,
                "full_corpus": score_corpus(truths, baseline, profile).normalised,
            },
            "with_feedback": {
                "holdout": with_fb.normalised,
                "learner": model.name,
                "learned": model.config_,
                "suppression_strength": model.strength_,
                "group_configs": model.group_configs_,
            },
            "lift": score_lift((f.name for f in files), with_fb, without, profile.fn),
            "holdout_windows": without.perfect / profile.tp,
            "peers_holdout": peers_scored,
        }
    results["profiles"] = profiles
    results["timestamp_warnings"] = {f.name: f.backward_steps for f in files if f.backward_steps}
    results["runtime_seconds"] = time.perf_counter() - started
    results["peak_rss_mib"] = _peak_rss_mib()
    results["backend"] = "dask" if dask_scheduler else f"loky x{jobs}"

    def stamps(found: dict[str, np.ndarray]) -> dict[str, list[str]]:
        by_name = {f.name: f for f in files}
        return {n: [by_name[n].timestamps[int(r)] for r in rows] for n, rows in found.items()}

    return {
        "protocol": "B1",
        "corpus": str(corpus),
        "warnings": warnings,
        "results": results,
        "detections": {
            "without_feedback": {name: stamps(baseline) for name in nab_profiles()},
            "with_feedback": {name: stamps(learned[name][1]) for name in nab_profiles()},
        },
    }
