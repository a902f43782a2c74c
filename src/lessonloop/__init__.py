"""Lessonloop: learn from incidents, and prove that the learning made the machines better."""

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
]
