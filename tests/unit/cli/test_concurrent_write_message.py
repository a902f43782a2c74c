"""A unique constraint another process broke first is one clear line and exit 5, not a
traceback."""

from __future__ import annotations

import pytest
import typer
from sqlalchemy.exc import IntegrityError

from lessonloop.cli.common import handle_errors


class _Duplicate(Exception):
    class diag:  # noqa: N801 - psycopg's attribute name
        constraint_name = "uq_signal_sets_version"


def test_a_concurrent_duplicate_is_a_conflict_with_the_constraint_named(capsys) -> None:
    @handle_errors
    def cut() -> None:
        raise IntegrityError("INSERT INTO signal_sets ...", {}, _Duplicate())

    with pytest.raises(typer.Exit) as caught:
        cut()
    assert caught.value.exit_code == 5
    err = capsys.readouterr().err
    assert "another command changed the same records at the same time" in err
    assert "(constraint uq_signal_sets_version)" in err and "run it again" in err
    assert "Traceback" not in err


def test_other_errors_are_not_swallowed() -> None:
    @handle_errors
    def broken() -> None:
        raise RuntimeError("a bug")

    with pytest.raises(RuntimeError, match="a bug"):
        broken()
