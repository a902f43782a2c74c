"""lessonloop.redact imports only the standard library, detect-secrets and lessonloop.errors."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import lessonloop.redact

PACKAGE = Path(lessonloop.redact.__file__).parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_redact_imports_only_what_it_may() -> None:
    offending = {}
    for path in sorted(PACKAGE.glob("*.py")):
        for module in _imported_modules(path):
            top = module.split(".")[0]
            allowed = (
                top in sys.stdlib_module_names
                or top == "detect_secrets"
                or module == "lessonloop.errors"
                or module.startswith("lessonloop.redact")
            )
            if not allowed:
                offending[path.name] = module
    assert offending == {}
    assert len(list(PACKAGE.glob("*.py"))) >= 10
