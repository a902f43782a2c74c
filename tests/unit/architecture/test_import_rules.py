"""The layering of ARCHITECTURE.md, enforced: imports point inward."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src" / "lessonloop"
LEAVES = {"lessonloop.errors"}  # leaf modules every layer may use

# package -> the lessonloop packages (besides itself and LEAVES) it may import
ALLOWED: dict[str, set[str]] = {
    "domain": set(),
    "evaluation": {"lessonloop.domain"},
    "detectors": {"lessonloop.domain"},
    "alerting": {"lessonloop.domain"},
    "text": {"lessonloop.domain"},
    "redact": {"lessonloop.domain"},
    "storage": {"lessonloop.domain"},
    "ingest": {"lessonloop.domain", "lessonloop.redact"},
    "cli": {"lessonloop.services", "lessonloop.domain", "lessonloop.settings",
            "lessonloop.cli", "lessonloop"},
}


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return [(line, name) for line, name in found if name.split(".")[0] == "lessonloop"]


def _allowed(package: str, module: str) -> bool:
    if module in LEAVES or module.startswith(f"lessonloop.{package}"):
        return True
    return any(module == rule or (rule != "lessonloop" and module.startswith(rule + "."))
               for rule in ALLOWED[package])


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_the_architecture_allows(package: str) -> None:
    violations = [
        f"{path.relative_to(SRC)}:{line} imports {module}"
        for path in sorted((SRC / package).rglob("*.py"))
        for line, module in _imports(path)
        if not _allowed(package, module)
    ]
    assert violations == []


def test_pure_packages_do_not_touch_the_database() -> None:
    for package in ("domain", "evaluation", "detectors", "text", "alerting"):
        for path in (SRC / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = ([a.name for a in node.names] if isinstance(node, ast.Import) else
                         [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                assert not any(n.split(".")[0] in {"sqlalchemy", "alembic", "psycopg"}
                               for n in names), f"{path} imports a database library"


def test_the_rule_checker_catches_a_violation(tmp_path: Path) -> None:
    bad = tmp_path / "x.py"
    bad.write_text("from lessonloop.storage import incidents\n")
    assert [m for _, m in _imports(bad) if not _allowed("cli", m)] == [
        "lessonloop.storage"]
