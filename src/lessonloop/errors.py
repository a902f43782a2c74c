"""The one exception tree of Lessonloop.

::

    LessonloopError                 anything Lessonloop raises on purpose
    ├── InputError                  bad user input: names the file, line and field
    ├── ConfigurationError          settings that cannot work (checked at start-up)
    ├── NotFound                    an unknown key, id or version
    ├── Conflict                    the request clashes with what is stored
    ├── PermissionDenied            the actor's role does not allow the action
    └── IntegrityError              stored content does not match its hash

The CLI turns each of these into one red line and a non-zero exit code.
"""

from __future__ import annotations

__all__ = [
    "LessonloopError",
    "InputError",
    "ConfigurationError",
    "NotFound",
    "Conflict",
    "PermissionDenied",
    "IntegrityError",
]


class LessonloopError(Exception):
    """Base of every error Lessonloop raises on purpose."""

    exit_code = 1


class InputError(LessonloopError):
    """User input that cannot be accepted; says where (file, line, field) and why."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        super().__init__(self.__str__())

    def located(self, *, file: str | None = None, line: int | None = None) -> InputError:
        """Return a copy that also names the file (and line) when they were not known yet."""
        return InputError(
            self.message,
            file=self.file or file,
            line=self.line if self.line is not None else line,
            field=self.field,
        )

    def __str__(self) -> str:
        where = []
        if self.file:
            where.append(self.file if self.line is None else f"{self.file}:{self.line}")
        elif self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(f"field '{self.field}'")
        prefix = ", ".join(where)
        return f"{prefix}: {self.message}" if prefix else self.message


class ConfigurationError(LessonloopError):
    """Settings that cannot work, found when Lessonloop starts."""

    exit_code = 3


class NotFound(LessonloopError):
    """An unknown key, id or version."""

    exit_code = 4


class Conflict(LessonloopError):
    """The request clashes with stored state (a duplicate, a race, a wrong status)."""

    exit_code = 5


class PermissionDenied(LessonloopError):
    """The actor's role does not allow the action."""

    exit_code = 6


class IntegrityError(LessonloopError):
    """Stored content (an artifact, a signal set) does not match its recorded hash."""

    exit_code = 7


def broken_constraint(exc: BaseException) -> str:
    """The constraint a database refusal names (``constraint uq_incidents_key``), as the driver
    reports it, else the driver's first line."""
    orig = getattr(exc, "orig", exc)
    name = getattr(getattr(orig, "diag", None), "constraint_name", None)
    return f"constraint {name}" if name else str(orig).splitlines()[0]
