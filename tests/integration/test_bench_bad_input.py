"""`lessonloop bench` on bad input: corpus CSVs, label windows, peers files, --out, B2 corpora."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.integration.test_benchmark_nab import make_corpus
from tests.integration.test_benchmark_text import write_corpus
from typer.testing import CliRunner

from lessonloop.cli.app import app
from lessonloop.errors import InputError
from lessonloop.services.benchmark_nab import load_corpus, load_peers
from lessonloop.services.benchmark_text import run_b2

LABELS = Path("labels") / "combined_windows.json"


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return make_corpus(tmp_path / "nab")


def _set_line(corpus: Path, name: str, line: int, text: bytes) -> None:
    path = corpus / "data" / name
    lines = path.read_bytes().splitlines()
    lines[line - 1] = text
    path.write_bytes(b"\n".join(lines) + b"\n")


def _set_labels(corpus: Path, labels: object) -> Path:
    path = corpus / LABELS
    path.write_text(json.dumps(labels))
    return path


# 7. corpus CSVs


def test_empty_timestamp_is_rejected_with_file_and_line(corpus: Path) -> None:
    _set_line(corpus, "alpha/b.csv", 57, b",11.07")
    with pytest.raises(InputError, match="timestamp") as caught:
        load_corpus(corpus)
    assert (caught.value.file, caught.value.line) == ("alpha/b.csv", 57)


def test_non_utf8_byte_is_rejected_with_file_and_line(corpus: Path) -> None:
    _set_line(corpus, "beta/c.csv", 9, b"2024-01-01 00:40:00,1.5\xff")
    with pytest.raises(InputError, match="UTF-8") as caught:
        load_corpus(corpus)
    assert (caught.value.file, caught.value.line) == ("beta/c.csv", 9)


@pytest.mark.parametrize(
    ("cell", "says"),
    [
        (b"1392330000", "looks like epoch seconds"),
        (b"now", "is not a timestamp"),
        (b"2024-01-01 00:56:00+02:00", "without an offset"),
    ],
)
def test_timestamps_numpy_would_misread_are_refused(corpus: Path, cell: bytes, says: str) -> None:
    _set_line(corpus, "alpha/b.csv", 57, cell + b",11.07")
    with pytest.raises(InputError, match=says) as caught:
        load_corpus(corpus)
    assert (caught.value.file, caught.value.line, caught.value.field) == (
        "alpha/b.csv",
        57,
        "timestamp",
    )


def test_a_row_with_an_extra_cell_is_refused(corpus: Path) -> None:
    _set_line(corpus, "alpha/b.csv", 57, b"2024-01-01 04:40:00,11.07,extra")
    with pytest.raises(InputError, match="expected 2 cells") as caught:
        load_corpus(corpus)
    assert (caught.value.file, caught.value.line) == ("alpha/b.csv", 57)


def test_lines_are_where_rows_start_after_a_quoted_line_break(corpus: Path) -> None:
    stamp, value = (corpus / "data" / "alpha" / "b.csv").read_bytes().splitlines()[2].split(b",")
    _set_line(corpus, "alpha/b.csv", 3, stamp + b',"' + value + b'\n"')  # one row on lines 3-4
    _set_line(corpus, "alpha/b.csv", 57, b"2024-01-01 04:40:00,x")
    with pytest.raises(InputError, match="not a number") as caught:
        load_corpus(corpus)
    assert (caught.value.file, caught.value.line) == ("alpha/b.csv", 57)
    _set_line(corpus, "alpha/b.csv", 57, b",11.07")
    with pytest.raises(InputError, match="empty or missing timestamp") as caught:
        load_corpus(corpus)
    assert caught.value.line == 57


def test_a_malformed_csv_record_is_an_input_error_at_its_line(corpus: Path) -> None:
    _set_line(corpus, "alpha/b.csv", 57, b"2024-01-01 04:40:00," + b"1" * 200_000)
    with pytest.raises(InputError, match="malformed CSV: field larger") as caught:
        load_corpus(corpus)
    assert (caught.value.file, caught.value.line) == ("alpha/b.csv", 57)


def test_a_byte_order_mark_before_the_header_is_read(corpus: Path) -> None:
    path = corpus / "data" / "alpha" / "b.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(load_corpus(corpus)) == len(list((corpus / "data").rglob("*.csv")))


def test_csv_files_that_are_not_read_are_warned_about_and_cannot_be_labelled(
    corpus: Path,
) -> None:
    data = corpus / "data"
    (data / "alpha" / "old").mkdir()
    (data / "alpha" / "old" / "a.csv").write_bytes((data / "alpha" / "a.csv").read_bytes())
    (data / "top.csv").write_text("timestamp,value\n")
    (data / "README.md").write_text("not data")
    warnings: list[str] = []
    assert len(load_corpus(corpus, warnings)) == 3
    assert warnings == [
        "alpha/old/a.csv: not read (too deep: only data/<category>/<file>.csv files are read)",
        "top.csv: not read (not in a category folder: only data/<category>/<file>.csv files are "
        "read)",
    ]
    peers = str(corpus / "peers.json")
    done = CliRunner().invoke(app, ["bench", "nab", "--corpus", str(corpus), "--peers", peers])
    assert done.exit_code == 0, done.output
    assert "warning: alpha/old/a.csv: not read (too deep" in done.output
    labels = json.loads((corpus / LABELS).read_text())
    _set_labels(corpus, {**labels, "alpha/old/a.csv": []})
    with pytest.raises(InputError, match=r"labelled file is not read \(too deep") as caught:
        load_corpus(corpus)
    assert caught.value.file == "alpha/old/a.csv"


def test_a_corpus_without_category_files_says_which_csv_files_are_not_read(
    corpus: Path,
) -> None:
    data = corpus / "data"
    for path in sorted(data.rglob("*.csv")):
        path.rename(data / path.name)
    for folder in ("alpha", "beta"):
        (data / folder).rmdir()
    with pytest.raises(InputError, match=r"3 other CSV file\(s\) not read, e\.g\. a\.csv"):
        load_corpus(corpus)
    for path in data.iterdir():
        path.unlink()
    with pytest.raises(InputError, match="no data/<category>/<file>.csv files$"):
        load_corpus(corpus)


def test_an_upper_case_suffix_is_read_and_keyed_by_its_exact_name(corpus: Path) -> None:
    (corpus / "data" / "beta" / "c.csv").rename(corpus / "data" / "beta" / "c.CSV")
    with pytest.raises(InputError, match="labels have 'beta/c.csv'.*case included") as caught:
        load_corpus(corpus)
    assert caught.value.file == "beta/c.CSV"
    labels = json.loads((corpus / LABELS).read_text())
    labels["beta/c.CSV"] = labels.pop("beta/c.csv")
    _set_labels(corpus, labels)
    assert [f.name for f in load_corpus(corpus)] == ["alpha/a.csv", "alpha/b.csv", "beta/c.CSV"]


def test_epoch_label_windows_are_refused_as_such(corpus: Path) -> None:
    labels = json.loads((corpus / LABELS).read_text())
    name = next(n for n, windows in labels.items() if windows)
    labels[name] = [["1393237020", "1393297020"]]
    _set_labels(corpus, labels)
    with pytest.raises(InputError, match="looks like epoch seconds") as caught:
        load_corpus(corpus)
    assert caught.value.field == name


# 7. labels file shape and windows


@pytest.mark.parametrize(
    "labels",
    [
        5,
        [],
        {"alpha/a.csv": 5, "alpha/b.csv": [], "beta/c.csv": []},
        {"alpha/a.csv": [["2024-01-01 00:00:00"]], "alpha/b.csv": [], "beta/c.csv": []},
        {"alpha/a.csv": [[1, 2]], "alpha/b.csv": [], "beta/c.csv": []},
    ],
)
def test_labels_of_the_wrong_shape_name_the_labels_file(corpus: Path, labels: object) -> None:
    path = _set_labels(corpus, labels)
    with pytest.raises(InputError, match="start") as caught:
        load_corpus(corpus)
    assert caught.value.file == str(path)


@pytest.mark.parametrize(
    ("window", "problem"),
    [
        (["2030-01-01 00:00:00", "2030-01-02 00:00:00"], "outside the file's time range"),
        (["2023-01-01 00:00:00", "2023-01-02 00:00:00"], "outside the file's time range"),
        (["2024-01-01 10:00:00", "2024-01-01 05:00:00"], "start is after end"),
        (["2024-01-01 10:01:00", "2024-01-01 10:04:00"], "no row"),
    ],
)
def test_windows_that_match_no_rows_are_rejected(
    corpus: Path, window: list[str], problem: str
) -> None:
    labels = json.loads((corpus / LABELS).read_text())
    labels["alpha/b.csv"] = [window]
    path = _set_labels(corpus, labels)
    with pytest.raises(InputError, match=problem) as caught:
        load_corpus(corpus)
    assert caught.value.file == str(path)
    assert caught.value.field == "alpha/b.csv"
    assert window[0] in caught.value.message


# 7. peers file


@pytest.mark.parametrize(
    ("peers", "key"),
    [
        ({"detectors": []}, "detectors"),
        ({}, "'detectors'"),
        ([], "'detectors'"),
        ({"detectors": {"x": {"standard": {"threshold": 1}}}}, "'detections'"),
        ({"detectors": {"x": {"standard": {"detections": {"alpha/a.csv": 5}}}}}, "detections"),
    ],
)
def test_peers_of_the_wrong_shape_name_the_file_and_key(
    corpus: Path, tmp_path: Path, peers: object, key: str
) -> None:
    files = load_corpus(corpus)
    path = tmp_path / "peers.json"
    path.write_text(json.dumps(peers))
    with pytest.raises(InputError, match=key) as caught:
        load_peers(path, files)
    assert caught.value.file == str(path)


# 8. --out is checked before the run


@pytest.mark.parametrize("command", ["nab", "text"])
def test_a_failed_run_leaves_no_out_folder(tmp_path: Path, command: str) -> None:
    out = tmp_path / "new" / "sub" / "r.json"
    done = CliRunner().invoke(
        app, ["bench", command, "--corpus", str(tmp_path / "missing"), "--out", str(out)]
    )
    assert done.exit_code == InputError.exit_code
    assert not (tmp_path / "new").exists()


def test_out_through_a_symbolic_link_writes_its_target(tmp_path: Path) -> None:
    from lessonloop.cli.common import write_atomically

    target = tmp_path / "results" / "b2.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "latest.json"
    link.symlink_to(target)
    write_atomically(link, "new")
    assert link.is_symlink() and target.read_text() == "new"


@pytest.mark.parametrize("command", ["nab", "text"])
@pytest.mark.parametrize("target", ["a-folder", "a-file/r.json"])
def test_bad_out_is_refused_before_the_run(tmp_path: Path, command: str, target: str) -> None:
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "a-file").write_text("")
    source = (
        make_corpus(tmp_path / "nab")
        if command == "nab"
        else write_corpus(tmp_path / "pm", ["billing", "search"])
    )
    result = CliRunner().invoke(
        app, ["bench", command, "--corpus", str(source), "--out", str(tmp_path / target)]
    )
    assert result.exit_code == InputError.exit_code, result.output
    assert "'--out'" in result.output
    assert "B1 holdout" not in result.output and "B2 learning" not in result.output


def test_out_in_a_missing_folder_is_written(tmp_path: Path) -> None:
    source = write_corpus(tmp_path / "pm", ["billing", "search", "login"])
    target = tmp_path / "new" / "deeper" / "b2.json"
    result = CliRunner().invoke(
        app, ["bench", "text", "--corpus", str(source), "--out", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["protocol"] == "B2"
    assert [p.name for p in target.parent.iterdir()] == ["b2.json"]


# 9. a train corpus without labels


def test_train_corpus_without_labels_is_an_input_error(tmp_path: Path) -> None:
    train = tmp_path / "train"
    train.mkdir()
    (train / "u.md").write_text("---\ntitle: Something broke\ncategories: []\n---\n\nBody.\n")
    test = write_corpus(tmp_path / "test", ["billing", "search"])
    with pytest.raises(InputError, match="the train corpus has no labelled documents") as caught:
        run_b2(None, train_corpus=train, test_corpus=test, seed=0, progress=None)
    assert caught.value.file == str(train)


# B2 corpora that would give a meaningless or silently wrong score

QUICK = {"seed": 0, "progress": None, "reveal_repeats": 1, "fractions": (0.0, 1.0)}


def _postmortem(path: Path, categories: str, summary: str = "", **fields: str) -> Path:
    extra = "".join(f"{key}: {value}\n" for key, value in fields.items())
    path.write_text(
        f"---\ntitle: {path.stem} incident\n{extra}categories: {categories}\n"
        f"summary: {summary or 'The ' + path.stem + ' service failed'}\n---\n\nBody.\n"
    )
    return path


def test_the_same_folder_as_train_and_test_corpus_is_refused(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "pm", ["billing", "search"])
    with pytest.raises(InputError, match="share documents") as caught:
        run_b2(None, train_corpus=corpus, test_corpus=tmp_path / "pm" / ".." / "pm", **QUICK)
    assert caught.value.file is not None and caught.value.file.endswith("hardware-billing.md")
    assert str(corpus) in caught.value.message
    result = CliRunner().invoke(
        app, ["bench", "text", "--train-corpus", str(corpus), "--test-corpus", str(corpus)]
    )
    assert result.exit_code == InputError.exit_code, result.output
    assert "B2 learning" not in result.output


@pytest.mark.parametrize("shared_by", ["uuid", "content"])
def test_a_document_in_both_corpora_is_refused(tmp_path: Path, shared_by: str) -> None:
    train = write_corpus(tmp_path / "train", ["billing", "search", "login"])
    test = write_corpus(tmp_path / "test", ["checkout", "api"])
    if shared_by == "uuid":
        _postmortem(train / "a.md", "[time]", "Clocks jumped", uuid="42")
        _postmortem(test / "b.md", "[time]", "Certificates expired", uuid="42")
        shared = "b.md"
    else:
        (test / "zz-copy.md").write_bytes((train / "time-login.md").read_bytes())
        shared = "zz-copy.md"
    with pytest.raises(InputError, match="share documents") as caught:
        run_b2(None, train_corpus=train, test_corpus=test, **QUICK)
    assert caught.value.file == str(test / shared)
    assert str(train) in caught.value.message and str(test) in caught.value.message


def test_a_folder_named_md_and_a_broken_link_are_input_errors(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "pm", ["billing", "search"])
    (corpus / "folder.md").mkdir()
    with pytest.raises(InputError, match="folder") as caught:
        run_b2(corpus, **QUICK)
    assert caught.value.file == str(corpus / "folder.md")
    (corpus / "folder.md").rmdir()
    (corpus / "x.md").symlink_to(tmp_path / "missing.md")
    with pytest.raises(InputError, match="does not exist") as caught:
        run_b2(corpus, **QUICK)
    assert caught.value.file == str(corpus / "x.md")
    result = CliRunner().invoke(app, ["bench", "text", "--corpus", str(corpus)])
    assert result.exit_code == InputError.exit_code
    assert "Traceback" not in result.output


def test_categories_outside_the_taxonomy_are_warned_about_and_case_is_ignored(
    tmp_path: Path,
) -> None:
    corpus = write_corpus(tmp_path / "pm", ["billing", "search", "login"])
    _postmortem(corpus / "a.md", "[Security, cascading-failures]", "A token leaked")
    _postmortem(corpus / "b.md", "[Cascading Failures]", "Retries overloaded the queue")
    result = run_b2(corpus, **QUICK)
    assert result["data"]["unknown_categories"] == {
        "cascading-failures": [str(corpus / "a.md"), str(corpus / "b.md")]
    }
    assert result["data"]["label_counts"]["security"] == 4
    assert "Security" not in result["config"]["labels"]
    assert [w for w in result["warnings"] if "'cascading-failures'" in w]
    cli = CliRunner().invoke(app, ["bench", "text", "--corpus", str(corpus)])
    assert cli.exit_code == 0, cli.output
    assert "'cascading-failures' is not in the default taxonomy" in cli.stderr
    assert "not in the default taxonomy" not in cli.stdout


def test_copies_inside_a_cross_validation_corpus_are_warned_about(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "pm", ["billing", "search", "login"])
    copied = (corpus / "time-login.md").read_text().replace("login incident", "LOGIN   Incident")
    (corpus / "zz-copy.md").write_text(copied)
    _postmortem(corpus / "a.md", "[time]", "Clocks jumped", uuid="42")
    _postmortem(corpus / "b.md", "[hardware]", "Disks failed", uuid="42")
    result = run_b2(corpus, **QUICK)
    assert result["data"]["duplicate_documents"] == [
        {"files": [str(corpus / "a.md"), str(corpus / "b.md")], "same": "the same uuid 42"},
        {
            "files": [str(corpus / "time-login.md"), str(corpus / "zz-copy.md")],
            "same": "the same text",
        },
    ]
    said = f"{corpus / 'a.md'} and {corpus / 'b.md'} look like one document (the same uuid 42)"
    assert any(w.startswith(said) for w in result["warnings"])
    cli = CliRunner().invoke(app, ["bench", "text", "--corpus", str(corpus)])
    assert cli.exit_code == 0, cli.output
    assert f"{corpus / 'zz-copy.md'} look like one document (the same text)" in cli.stderr


def test_train_and_test_corpora_without_a_common_category_are_refused(tmp_path: Path) -> None:
    train, test = tmp_path / "train", tmp_path / "test"
    train.mkdir()
    test.mkdir()
    for name in ("a", "b", "c"):
        _postmortem(train / f"{name}.md", "[time]", f"Clock {name} jumped")
        _postmortem(test / f"{name}.md", "[hardware]", f"Disk {name} failed")
    with pytest.raises(InputError, match="no category of the test corpus") as caught:
        run_b2(None, train_corpus=train, test_corpus=test, **QUICK)
    assert caught.value.file == str(test)
    _postmortem(test / "d.md", "[time]", "The leap second hit")
    result = run_b2(None, train_corpus=train, test_corpus=test, **QUICK)
    assert result["data"]["untrained_test_categories"] == ["hardware"]
    assert any("'hardware' has no training example" in w for w in result["warnings"])


def test_documents_without_text_are_left_out_and_reported(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "pm", ["billing", "search"])
    (corpus / "empty.md").write_text("---\ntitle: ''\ncategories: [time]\n---\n\n# Heading\n")
    result = run_b2(corpus, **QUICK)
    assert result["data"]["empty_documents"] == [str(corpus / "empty.md")]
    assert "empty.md" not in result["raw"]["documents"]
    assert result["data"]["labeled"] == 6
    assert any("empty.md: no text to learn from" in w for w in result["warnings"])


def test_too_few_labelled_documents_names_the_folder_and_the_count(tmp_path: Path) -> None:
    corpus = tmp_path / "pm"
    corpus.mkdir()
    for name in ("a", "b", "c"):
        _postmortem(corpus / f"{name}.md", "[time]")
    with pytest.raises(InputError, match="found 3") as caught:
        run_b2(corpus, **QUICK)
    assert caught.value.file == str(corpus)
