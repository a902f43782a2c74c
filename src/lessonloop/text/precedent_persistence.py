"""Save and load a precedent retriever as two readable JSON files (no pickle, no skops).

The state is the indexed documents and the reviewers' verdicts with their query text; the
BM25 / TF-IDF index is rebuilt from them on load (deterministic, and cheap at this size), so
nothing executable or version-specific is ever read from disk.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from lessonloop.errors import InputError

if TYPE_CHECKING:
    from lessonloop.text.precedents import PrecedentRetriever

__all__ = ["save_retriever", "load_retriever", "RETRIEVER_FORMAT"]

RETRIEVER_FORMAT = "lessonloop.precedent-retriever"
RETRIEVER_VERSION = 1
_PARAMS = (
    "backend",
    "k1",
    "b",
    "feedback_weight",
    "feedback_min_similarity",
    "label_weight",
    "max_chars",
)
_CONFIG = "config.json"
_STATE = "state.json"


def save_retriever(retriever: PrecedentRetriever, directory: str | Path) -> None:
    """Write the retriever's parameters, documents and feedback as JSON."""
    if not hasattr(retriever, "documents_"):
        raise InputError("the retriever has no index; call fit() first")
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    config = {
        "format": RETRIEVER_FORMAT,
        "version": RETRIEVER_VERSION,
        "params": {name: getattr(retriever, name) for name in _PARAMS},
        "documents": len(retriever.documents_),
        "feedback": len(retriever.feedback_records()),
    }
    state = {
        "documents": [asdict(d) | {"labels": list(d.labels)} for d in retriever.documents_],
        "feedback": [
            {"query": query, "incident_id": incident_id, "helpful": helpful}
            for query, incident_id, helpful in retriever.feedback_records()
        ],
    }
    (target / _CONFIG).write_text(json.dumps(config, indent=2), encoding="utf-8")
    (target / _STATE).write_text(json.dumps(state, indent=1), encoding="utf-8")


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("no saved precedent retriever here", file=str(path)) from None
    except json.JSONDecodeError as error:
        raise InputError(f"invalid JSON: {error.msg}", file=str(path), line=error.lineno) from None


def load_retriever(
    directory: str | Path,
    *,
    encoder: Callable[[Sequence[str]], np.ndarray] | None = None,
) -> PrecedentRetriever:
    """Rebuild a saved retriever: same parameters, same documents, same verdicts."""
    from lessonloop.text.precedents import PrecedentDocument, PrecedentRetriever

    source = Path(directory)
    config = _read_json(source / _CONFIG)
    if not isinstance(config, dict) or config.get("format") != RETRIEVER_FORMAT:
        raise InputError("not a precedent retriever", file=str(source / _CONFIG), field="format")
    if config.get("version") != RETRIEVER_VERSION:
        raise InputError("unknown retriever version", file=str(source / _CONFIG), field="version")
    params = config.get("params", {})
    unknown = sorted(set(params) - set(_PARAMS))
    if unknown:
        raise InputError(
            f"unknown parameters: {', '.join(unknown)}", file=str(source / _CONFIG), field="params"
        )
    state = _read_json(source / _STATE)
    allowed = {f.name for f in fields(PrecedentDocument)}
    documents = []
    for position, item in enumerate(state.get("documents", [])):
        if not isinstance(item, dict) or set(item) - allowed or "incident_id" not in item:
            raise InputError(
                "malformed document", file=str(source / _STATE), field=f"documents[{position}]"
            )
        documents.append(PrecedentDocument(**(item | {"labels": tuple(item.get("labels", ()))})))
    retriever = PrecedentRetriever(**params, encoder=encoder).fit(documents)
    for position, item in enumerate(state.get("feedback", [])):
        try:
            retriever.add_feedback(
                str(item["query"]), str(item["incident_id"]), helpful=bool(item["helpful"])
            )
        except (KeyError, TypeError):
            raise InputError(
                "malformed feedback", file=str(source / _STATE), field=f"feedback[{position}]"
            ) from None
    return retriever
