"""Lessonloop: learn from incidents, and prove that the learning made the machines better.

The Python API a notebook user needs::

    import lessonloop as ll

    ws = ll.open_workspace(ll.load_settings(home="ops/.lessonloop"))
    ll.import_files(ws, "alertmanager", [Path("webhooks.jsonl")])
    result = ll.learn(ws)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from lessonloop.errors import (
    ConfigurationError,
    Conflict,
    InputError,
    IntegrityError,
    LessonloopError,
    NotFound,
    PermissionDenied,
)
from lessonloop.settings import Settings, load_settings

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "Conflict",
    "ConfigurationError",
    "InputError",
    "IntegrityError",
    "LessonloopError",
    "NotFound",
    "PermissionDenied",
    "Settings",
    "load_settings",
    "Workspace",
    "init_workspace",
    "open_workspace",
    "import_files",
    "import_review",
    "learn",
    "run_demo",
]

# Heavier entry points load on first use, so `import lessonloop` stays fast.
_LAZY = {
    "Workspace": ("lessonloop.services.workspace", "Workspace"),
    "init_workspace": ("lessonloop.services.workspace", "init_workspace"),
    "open_workspace": ("lessonloop.services.workspace", "open_workspace"),
    "import_files": ("lessonloop.services.importing", "import_files"),
    "import_review": ("lessonloop.services.reviews", "import_review"),
    "learn": ("lessonloop.services.learn", "learn"),
    "run_demo": ("lessonloop.services.demo_run", "run_demo"),
}

if TYPE_CHECKING:
    from lessonloop.services.demo_run import run_demo
    from lessonloop.services.importing import import_files
    from lessonloop.services.learn import learn
    from lessonloop.services.reviews import import_review
    from lessonloop.services.workspace import Workspace, init_workspace, open_workspace


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'lessonloop' has no attribute {name!r}")
