"""detectors/, alerting/ and evaluation/ stay pure: they run anywhere, including on Dask
workers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import lessonloop

PACKAGE = Path(lessonloop.__file__).parent
ALLOWED = {
    "detectors": {
        "numpy",
        "scipy",
        "sklearn",
        "skops",
        "joblib",
        "lessonloop.errors",
        "lessonloop.detectors",
    },
    "evaluation": {"numpy", "scipy", "lessonloop.domain", "lessonloop.evaluation"},
    "alerting": {"lessonloop.domain", "lessonloop.alerting"},
}
STDLIB_OK = {
    "__future__",
    "bisect",
    "collections",
    "dataclasses",
    "datetime",
    "inspect",
    "itertools",
    "json",
    "math",
    "pathlib",
    "typing",
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_architecture_allows(package: str) -> None:
    allowed = ALLOWED[package] | STDLIB_OK
    for path in sorted((PACKAGE / package).glob("*.py")):
        for module in imported_modules(path):
            ok = any(module == a or module.startswith(a + ".") for a in allowed)
            assert ok, f"{path.name} imports {module}"
