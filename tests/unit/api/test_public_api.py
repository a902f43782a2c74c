"""The public Python API is pinned: removing or renaming a name is a deliberate change."""

from __future__ import annotations

import lessonloop

EXPECTED = {
    "__version__", "Conflict", "ConfigurationError", "InputError", "IntegrityError",
    "LessonloopError", "NotFound", "PermissionDenied", "Settings", "load_settings",
    "Workspace", "init_workspace", "open_workspace", "import_files", "import_review", "learn",
    "run_demo",
}


def test_exported_names_are_pinned() -> None:
    assert set(lessonloop.__all__) == EXPECTED


def test_every_exported_name_resolves() -> None:
    for name in lessonloop.__all__:
        assert getattr(lessonloop, name) is not None


def test_errors_form_one_tree() -> None:
    for name in ("Conflict", "ConfigurationError", "InputError", "IntegrityError", "NotFound",
                 "PermissionDenied"):
        assert issubclass(getattr(lessonloop, name), lessonloop.LessonloopError)
    err = lessonloop.InputError("bad value", file="a.md", line=3, field="Due")
    assert str(err) == "a.md:3, field 'Due': bad value"
