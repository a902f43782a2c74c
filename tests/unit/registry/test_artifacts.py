"""Artifacts: content hash over the directory, refusal on mismatch, no code execution on load."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import skops.io

from lessonloop.errors import IntegrityError, NotFound
from lessonloop.registry.artifacts import (
    STATE_FILE,
    directory_hash,
    load_artifact,
    read_config,
    save_artifact,
    store_artifact,
)


def test_round_trip_keeps_config_and_state(tmp_path: Path) -> None:
    digest = save_artifact(
        tmp_path / "m", {"rules": [], "alpha": 0.5}, {"thresholds": np.array([1.0, 2.5])}
    )
    loaded = load_artifact(tmp_path / "m", digest)
    assert loaded.config == {"rules": [], "alpha": 0.5}
    np.testing.assert_array_equal(loaded.state["thresholds"], [1.0, 2.5])


def test_any_changed_byte_is_refused(tmp_path: Path) -> None:
    digest = save_artifact(tmp_path / "m", {"threshold": 3.0})
    config = tmp_path / "m" / "config.json"
    config.write_text(config.read_text().replace("3.0", "30.0"))
    with pytest.raises(IntegrityError, match="does not match"):
        load_artifact(tmp_path / "m", digest)
    with pytest.raises(IntegrityError):
        read_config(tmp_path / "m", digest)


def test_an_added_file_changes_the_hash(tmp_path: Path) -> None:
    digest = save_artifact(tmp_path / "m", {"a": 1})
    (tmp_path / "m" / "extra.txt").write_text("x")
    assert directory_hash(tmp_path / "m") != digest


def test_state_with_types_outside_the_allow_list_is_refused_without_running_them(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "m"
    directory.mkdir()
    (directory / "config.json").write_text(json.dumps({}))
    # A Path object is a type skops would have to rebuild: not on the allow-list.
    skops.io.dump({"where": Path("/etc")}, directory / STATE_FILE)
    with pytest.raises(IntegrityError, match="allow-list"):
        load_artifact(directory, directory_hash(directory))


def test_a_pickle_disguised_as_state_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "m"
    directory.mkdir()
    (directory / "config.json").write_text("{}")
    marker = tmp_path / "pwned"
    payload = b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR."
    (directory / STATE_FILE).write_bytes(payload)
    with pytest.raises(IntegrityError):
        load_artifact(directory, directory_hash(directory))
    assert not marker.exists()


def test_store_copies_under_the_hash_and_is_idempotent(tmp_path: Path) -> None:
    digest = save_artifact(tmp_path / "src", {"a": 1}, {"w": np.arange(3)})
    first, got = store_artifact(tmp_path / "src", tmp_path / "artifacts")
    second, _ = store_artifact(tmp_path / "src", tmp_path / "artifacts")
    assert got == digest and first == second and first.name == digest[:20]


def test_missing_directory_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        load_artifact(tmp_path / "nope", "0" * 64)
