"""Review templates as data: the built-in default and custom YAML templates."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from lessonloop.errors import InputError, NotFound

__all__ = [
    "SectionSpec",
    "TemplateRules",
    "ReviewTemplate",
    "load_template",
    "builtin_templates",
    "SHAPES",
]

SHAPES = ("prose", "list", "timeline", "decisions", "alerts", "insights", "actions", "signals")
BUILTIN_DIR = Path(__file__).with_name("templates")


class SectionSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    key: str
    title: str
    shape: Literal[
        "prose", "list", "timeline", "decisions", "alerts", "insights", "actions", "signals"
    ]
    required: bool = False
    prompt: str = ""


class TemplateRules(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action_items_require_owner: bool = True
    action_items_require_due: bool = True


class ReviewTemplate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1)
    version: int = Field(ge=1)
    description: str = ""
    rules: TemplateRules = Field(default_factory=TemplateRules)
    sections: list[SectionSpec] = Field(min_length=1)

    def by_title(self) -> dict[str, SectionSpec]:
        return {s.title.lower(): s for s in self.sections}


def _parse(path: Path) -> ReviewTemplate:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InputError(
            f"malformed YAML: {getattr(exc, 'problem', exc)}",
            file=str(path),
            line=mark.line + 1 if mark else None,
        ) from exc
    except UnicodeDecodeError as exc:
        raise InputError("not UTF-8 text", file=str(path)) from exc
    if not isinstance(raw, dict):
        raise InputError("a template is a YAML mapping", file=str(path))
    try:
        return ReviewTemplate.model_validate(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        raise InputError(
            err["msg"], file=str(path), field=".".join(str(p) for p in err["loc"])
        ) from exc


def builtin_templates() -> dict[str, ReviewTemplate]:
    return {t.name: t for t in (_parse(p) for p in sorted(BUILTIN_DIR.glob("*.yaml")))}


def load_template(name_or_path: str, search_dirs: list[Path] | None = None) -> ReviewTemplate:
    """A template by built-in name, by name in ``search_dirs`` (NAME.yaml), or by file path."""
    path = Path(name_or_path)
    if path.suffix in (".yaml", ".yml") and path.exists():
        return _parse(path)
    for folder in search_dirs or []:
        candidate = folder / f"{name_or_path}.yaml"
        if candidate.exists():
            return _parse(candidate)
    builtins = builtin_templates()
    if name_or_path in builtins:
        return builtins[name_or_path]
    raise NotFound(
        f"unknown review template {name_or_path!r} (built in: {', '.join(sorted(builtins))})"
    )
