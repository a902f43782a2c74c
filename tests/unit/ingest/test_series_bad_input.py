"""Bad values and timestamps in series imports: one located InputError, never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from lessonloop.errors import InputError
from lessonloop.ingest.prometheus import parse_query_range
from lessonloop.ingest.series_csv import CsvColumns, parse_series_csv

HEADER = "timestamp,value\n"
LABELLED = "timestamp,value,label\n"


def _csv(text: str, columns: CsvColumns = CsvColumns()) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_series_csv(text.encode(), "bad.csv", name="s", columns=columns)
    assert caught.value.file == "bad.csv"
    return caught.value


def _query_range(values: list[list[object]]) -> bytes:
    result = [{"metric": {"job": "api"}, "values": values}]
    body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
    return json.dumps(body).encode()


@pytest.mark.parametrize("cell", ["nan", "NaN", "inf", "-Infinity", "1e999"])
@pytest.mark.parametrize("labelled", [False, True])
def test_csv_rejects_nan_and_infinite_values(cell: str, labelled: bool) -> None:
    label = ",a" if labelled else ""
    text = (LABELLED if labelled else HEADER) + f"2025-01-01T00:00:00Z,1{label}\n"
    error = _csv(text + f"2025-01-01T00:01:00Z,{cell}{label}\n")
    assert (error.line, error.field) == (3, "value")
    assert ("NaN" if "nan" in cell.lower() else "infinite") in error.message


@pytest.mark.parametrize("raw", ["NaN", "+Inf", "-Inf"])
def test_query_range_rejects_nan_and_infinite_values(raw: str) -> None:
    data = _query_range([[1735689600, "1"], [1735689660, raw]])
    with pytest.raises(InputError) as caught:
        parse_query_range(data, "q.json", name="q")
    assert caught.value.file == "q.json"
    assert caught.value.field == "$.data.result[0].values[1]"


@pytest.mark.parametrize("labelled", [False, True])
def test_csv_epoch_milliseconds_are_named(labelled: bool) -> None:
    label = ",a" if labelled else ""
    rows = f"1735689600,1{label}\n1735689660000,2{label}\n"
    error = _csv((LABELLED if labelled else HEADER) + rows)
    assert (error.line, error.field) == (3, "timestamp")
    assert "looks like epoch milliseconds" in error.message


@pytest.mark.parametrize(
    "cell", ["-1000", "99999999999999999999999", "now", "3000-01-01T00:00:00Z", "0999-12-31"]
)
@pytest.mark.parametrize("labelled", [False, True])
def test_csv_times_outside_the_range_are_rejected_on_both_paths(cell: str, labelled: bool) -> None:
    label = ",a" if labelled else ""
    rows = f"2025-01-01T00:00:00Z,1{label}\n{cell},2{label}\n"
    error = _csv((LABELLED if labelled else HEADER) + rows)
    assert (error.line, error.field) == (3, "timestamp")


@pytest.mark.parametrize("labelled", [False, True])
def test_csv_years_1000_to_2199_import_on_both_paths(labelled: bool) -> None:
    label = ",a" if labelled else ""
    rows = f"1000-01-01T00:00:00Z,1{label}\n2199-12-31T23:59:59Z,2{label}\n"
    batch = parse_series_csv(
        ((LABELLED if labelled else HEADER) + rows).encode(), "ok.csv", name="s"
    )
    assert batch.series[0].timestamps.tolist() == [-30610224000, 7258118399]


def test_csv_iso_then_epoch_seconds_reads_each_row() -> None:
    batch = parse_series_csv(
        (HEADER + "2025-01-01T00:00:00Z,1\n1735692300,2\n").encode(), "ok.csv", name="s"
    )
    assert batch.series[0].timestamps.tolist() == [1735689600, 1735692300]


def test_query_range_epoch_milliseconds_are_named() -> None:
    data = _query_range([[1735689600000, "1"]])
    with pytest.raises(InputError) as caught:
        parse_query_range(data, "q.json", name="q")
    assert caught.value.field == "$.data.result[0].values[0]"
    assert "looks like epoch milliseconds" in caught.value.message


@pytest.mark.parametrize("stamp", [-1000, 10**400, 1e300])
def test_query_range_timestamps_outside_the_range_are_rejected(stamp: float) -> None:
    with pytest.raises(InputError) as caught:
        parse_query_range(_query_range([[stamp, "1"]]), "q.json", name="q")
    assert caught.value.field == "$.data.result[0].values[0]"


def test_an_explicit_label_column_must_exist() -> None:
    text = "timestamp,value,host\n2025-01-01T00:00:00Z,1,h1\n2025-01-01T00:00:00Z,2,h2\n"
    error = _csv(text, CsvColumns(label="hosts"))
    assert (error.line, error.field) == (1, "hosts")
    named = _csv(text, CsvColumns(label="label", label_required=True))  # --label-column label
    assert (named.line, named.field) == (1, "label")


def test_the_default_label_column_stays_optional() -> None:
    batch = parse_series_csv((HEADER + "2025-01-01T00:00:00Z,1\n").encode(), "ok.csv", name="s")
    assert [s.name for s in batch.series] == ["s"]


def test_a_carriage_return_in_a_field_names_the_line() -> None:
    error = _csv(HEADER + "2025-01-01T00:00:00Z,1\n2025-01-01T00:01:00Z,2\r3\n")
    assert error.line == 3
    assert "malformed CSV" in error.message


def test_lines_are_where_records_start_after_a_quoted_line_break() -> None:
    quoted = LABELLED + '2025-01-01T00:00:00Z,1,"a\nb"\n2025-01-01T00:01:00Z,2,c\n'
    error = _csv(quoted + "2025-01-01T00:02:00Z,x,c\n")  # records 3, physical lines 2-3, 4, 5
    assert (error.line, error.field) == (5, "value")
    repeated = quoted + "2025-01-01T00:01:00Z,3,c\n"
    (warning,) = parse_series_csv(repeated.encode(), "ok.csv", name="s").warnings
    assert "first at ok.csv:5" in warning
    broken = _csv(quoted + '2025-01-01T00:02:00Z,"1\nx"y\r,c\n')
    assert broken.line == 5 and "malformed CSV" in broken.message
    assert "(in the record on lines 5-6)" in broken.message


@pytest.mark.parametrize("ending", ["\n", "\r\n"])
def test_lines_are_the_same_with_and_without_quotes_in_the_file(ending: str) -> None:
    # A file without quotes is read in one go (no record can span lines); with a quote the
    # reader goes record by record. Both name the same line, blank lines included.
    rows = ["2025-01-01T00:00:00Z,1,a", "", "2025-01-01T00:01:00Z,2,b", "", ""]
    bad = "2025-01-01T00:02:00Z,x,c"
    plain = _csv(ending.join([LABELLED.strip(), *rows, bad, ""]))
    quoted = _csv(ending.join([LABELLED.strip(), *rows, bad.replace(",c", ',"c"'), ""]))
    assert (plain.line, plain.field) == (quoted.line, quoted.field) == (7, "value")
    unlabelled = [r.rsplit(",", 1)[0] for r in rows]
    fast = _csv(ending.join([HEADER.strip(), *unlabelled, "2025-01-01T00:02:00Z,x", ""]))
    assert (fast.line, fast.field) == (7, "value")


def test_duplicates_keep_the_last_value_are_counted_and_rows_are_sorted() -> None:
    for header, label in ((HEADER, ""), (LABELLED, ",a")):
        rows = "".join(f"{t},{v}{label}\n" for t, v in [(50, 1), (30, 2), (50, 3), (90, 4)])
        batch = parse_series_csv((header + rows).encode(), "ok.csv", name="s")
        (data,) = batch.series
        assert data.timestamps.tolist() == [30, 50, 90]
        assert data.values.tolist() == [2.0, 3.0, 4.0]
        (warning,) = batch.warnings
        assert "1 row repeats an earlier timestamp" in warning
        assert "first at ok.csv:4" in warning


@pytest.mark.parametrize(
    "rows",
    [
        # unsorted; 300 repeated once, 100 twice; the first repeat (file order) is line 5
        [("100", 1), ("300", 2), ("200", 3), ("300", 4), ("100", 5), ("", 0), ("100", 6)],
        # one time spelt two ways, after a blank line
        [
            ("2025-01-01T00:00:00Z", 1),
            ("", 0),
            ("2025-01-01T00:01:00Z", 2),
            ("2025-01-01T00:00:00+00:00", 3),
        ],
    ],
)
def test_a_repeated_timestamp_keeps_the_fast_path_with_the_careful_paths_warning(
    rows: list[tuple[str, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from lessonloop.ingest import series_csv

    text = HEADER + "".join(f"{t},{v}\n" if t else "\n" for t, v in rows)
    careful = series_csv._row_seconds

    def unused(cell: str, where: object) -> int:
        raise AssertionError("the row-by-row reader was used")

    monkeypatch.setattr(series_csv, "_row_seconds", unused)
    fast = parse_series_csv(text.encode(), "dup.csv", name="s")
    monkeypatch.setattr(series_csv, "_row_seconds", careful)
    monkeypatch.setattr(series_csv, "_vectorised", lambda *args, **kwargs: None)
    slow = parse_series_csv(text.encode(), "dup.csv", name="s")
    assert fast.warnings == slow.warnings and len(fast.warnings) == 1
    (data,), (expected,) = fast.series, slow.series
    assert data.timestamps.tolist() == expected.timestamps.tolist()
    assert data.values.tolist() == expected.values.tolist()


@pytest.mark.parametrize(
    "cells",
    [
        ["1735689600.1", "1735689600.5", "1735689600.9", "1735689601.3"],
        ["2025-01-01T00:00:00.100Z", "2025-01-01T00:00:00.500Z", "2025-01-01T00:00:01Z"],
    ],
)
def test_sub_second_times_that_share_a_second_are_reported(cells: list[str]) -> None:
    text = HEADER + "".join(f"{cell},{n}\n" for n, cell in enumerate(cells))
    batch = parse_series_csv(text.encode(), "frac.csv", name="s")
    (data,) = batch.series
    assert data.timestamps.size == 2
    (warning,) = batch.warnings
    assert f"{len(cells) - 2} row" in warning and "frac.csv:3" in warning


def test_labels_that_make_the_same_series_name_are_refused() -> None:
    error = _csv(LABELLED + "2025-01-01T00:00:00Z,1,Web 1\n2025-01-01T00:01:00Z,2,web-1\n")
    assert (error.line, error.field) == (3, "label")
    assert "'Web 1' (line 2) and 'web-1'" in error.message


def test_long_labels_keep_apart_and_names_stay_within_the_limit() -> None:
    pods = [f"namespace=shop,pod=checkout-api-{'x' * 120}-{suffix}" for suffix in "abc"]
    text = LABELLED + "".join(f'2025-01-01T00:00:00Z,{n},"{pod}"\n' for n, pod in enumerate(pods))
    names = [s.name for s in parse_series_csv(text.encode(), "long.csv", name="m").series]
    assert len(set(names)) == 3
    assert all(len(name) <= len("m:") + 120 for name in names)
    short = parse_series_csv((LABELLED + "2025-01-01T00:00:00Z,1,Web 1\n").encode(), "x", name="m")
    assert short.series[0].name == "m:web-1"  # short labels are named as before


def test_values_too_large_to_score_are_refused() -> None:
    error = _csv(HEADER + "2025-01-01T00:00:00Z,1e308\n")
    assert (error.line, error.field) == (2, "value")
    assert "1e100" in error.message


def test_query_range_results_are_told_apart_by_metric_name_or_refused() -> None:
    result = [
        {"metric": {"__name__": "a", "job": "x"}, "values": [[1735689600, "1"]]},
        {"metric": {"__name__": "b", "job": "x"}, "values": [[1735689600, "2"]]},
    ]
    body = {"status": "success", "data": {"resultType": "matrix", "result": result}}
    batch = parse_query_range(json.dumps(body).encode(), "q.json", name="q")
    assert [s.name for s in batch.series] == ["q:name-a-job-x", "q:name-b-job-x"]
    result.append({"metric": {"__name__": "A", "job": "X"}, "values": [[1735689600, "3"]]})
    with pytest.raises(InputError) as caught:
        parse_query_range(json.dumps(body).encode(), "q.json", name="q")
    assert "results 0 and 2" in caught.value.message


def test_query_range_repeated_times_are_reported() -> None:
    batch = parse_query_range(
        _query_range([[1735689600.1, "1"], [1735689600.6, "2"], [1735689601, "3"]]),
        "q.json",
        name="q",
    )
    assert batch.series[0].timestamps.size == 2
    assert "1 row repeats" in batch.warnings[0]


@pytest.fixture
def sqlite_workspace(tmp_path: Path) -> Iterator[object]:
    from lessonloop.services.workspace import init_workspace
    from lessonloop.settings import Settings

    settings = Settings(home=tmp_path / "home", database_url=f"sqlite:///{tmp_path / 'll.db'}")
    ws = init_workspace(settings, actor="tester")
    yield ws
    ws.close()


def test_a_bad_file_is_rejected_and_the_others_import(sqlite_workspace, tmp_path: Path) -> None:
    from lessonloop.services.importing import ImportOptions, import_files
    from lessonloop.storage import series

    files = {
        "a1.csv": HEADER + "2025-01-01T00:00:00Z,1\n",
        "bad.csv": HEADER + "1735689600000,1\n",
        "nan.csv": HEADER + "2025-01-01T00:00:00Z,nan\n",
        "a2.csv": HEADER + "2025-02-01T00:00:00Z,2\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    summary = import_files(
        sqlite_workspace,
        "series",
        [tmp_path / name for name in files],
        options=ImportOptions(service="svc"),
    )
    assert summary.outcomes["file"] == {"imported": 2, "rejected": 2}
    assert [(e.file, e.line) for e in summary.errors] == [
        (str(tmp_path / "bad.csv"), 2),
        (str(tmp_path / "nan.csv"), 2),
    ]
    with sqlite_workspace.transaction() as session:
        stored = series.list_for_service("svc", session=session)
    assert [s.name for s in stored] == ["a1", "a2"]
    assert all(np.isfinite(s.values).all() for s in stored)


def test_json_with_a_byte_order_mark_and_long_names(sqlite_workspace, tmp_path: Path) -> None:
    from lessonloop.services.importing import ImportOptions, import_files

    (tmp_path / "bom.json").write_bytes(
        b"\xef\xbb\xbf" + _query_range([[1735689600, "1"], [1735689660, "2"]])
    )
    summary = import_files(
        sqlite_workspace, "series", [tmp_path / "bom.json"], options=ImportOptions(service="svc")
    )
    assert summary.outcomes["file"] == {"imported": 1}
    too_long = ImportOptions(service="svc", series_name="n" * 201)
    (tmp_path / "ok.csv").write_text(HEADER + "2025-01-01T00:00:00Z,1\n")
    refused = import_files(sqlite_workspace, "series", [tmp_path / "ok.csv"], options=too_long)
    assert refused.outcomes["file"] == {"rejected": 1}
    assert refused.errors[0].field == "name" and "201 characters" in refused.errors[0].message


def test_a_csv_whose_header_starts_with_a_bracket_is_csv(sqlite_workspace, tmp_path: Path) -> None:
    from lessonloop.ingest.series_csv import CsvColumns as Columns
    from lessonloop.services.importing import ImportOptions, import_files

    (tmp_path / "br.csv").write_text("[time],value\n1700000000,1\n")
    options = ImportOptions(service="svc", columns=Columns(timestamp="[time]"))
    summary = import_files(sqlite_workspace, "series", [tmp_path / "br.csv"], options=options)
    assert summary.outcomes["file"] == {"imported": 1}, summary.errors
