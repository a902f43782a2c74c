"""Editable taxonomies (failure modes, remediations, human factors, incident types) as data.

Defaults ship in ``data/default_taxonomy.yaml`` and are copied into the ``taxonomy_terms``
table the first time a workspace uses them; from then on the table is the truth, so edits are
kept and travel with the workspace export.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from importlib import resources
from typing import Any

import yaml
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lessonloop.domain.signals import label_words
from lessonloop.errors import Conflict, InputError, NotFound
from lessonloop.storage.tables import TaxonomyTermRow

__all__ = [
    "TAXONOMIES",
    "TaxonomyTerm",
    "default_terms",
    "ensure_seeded",
    "list_terms",
    "add_term",
    "remove_term",
    "matching_terms",
    "cached_terms",
]

TAXONOMIES = ("failure_mode", "remediation", "human_factor", "incident_type")
_MARKER_TAXONOMY = "_meta"
_MARKER_VALUE = "defaults seeded"
_CACHE = "lessonloop.taxonomy_terms"


@dataclass(frozen=True)
class TaxonomyTerm:
    """One value of a taxonomy, with the keywords that suggest it in free text."""

    taxonomy: str
    value: str
    description: str = ""
    keywords: tuple[str, ...] = field(default_factory=tuple)

    @cached_property
    def pattern(self) -> re.Pattern[str] | None:
        """One regex for the value itself and every keyword (``word*`` is a prefix)."""
        parts = []
        for keyword in (self.value, *self.keywords):
            cleaned = keyword.strip().lower()
            if not cleaned:
                continue
            prefix = cleaned.endswith("*")
            words = cleaned.rstrip("*").split()
            body = r"[\s-]+".join(re.escape(w) for w in words)
            parts.append(r"\b" + body + (r"\w*" if prefix else r"\b"))
        return re.compile("|".join(parts), re.IGNORECASE) if parts else None

    def matches(self, text: str) -> bool:
        """Whether the value or one of its keywords occurs in ``text``."""
        return bool(self.pattern and self.pattern.search(text))


def default_terms() -> list[TaxonomyTerm]:
    """The shipped default terms, in file order."""
    raw = resources.files("lessonloop.knowledge").joinpath("data/default_taxonomy.yaml")
    data: dict[str, dict[str, dict[str, Any]]] = yaml.safe_load(raw.read_text("utf-8"))
    return [
        TaxonomyTerm(
            taxonomy,
            value,
            str(spec.get("description", "")),
            tuple(str(k) for k in spec.get("keywords", [])),
        )
        for taxonomy, values in data.items()
        for value, spec in values.items()
    ]


def ensure_seeded(session: Session) -> bool:
    """Copy the defaults into the workspace once; True when it did so now."""
    marker = session.scalar(
        select(TaxonomyTermRow.id).where(
            TaxonomyTermRow.taxonomy == _MARKER_TAXONOMY, TaxonomyTermRow.value == _MARKER_VALUE
        )
    )
    if marker is not None:
        return False
    present = {
        (t, v) for t, v in session.execute(select(TaxonomyTermRow.taxonomy, TaxonomyTermRow.value))
    }
    for term in default_terms():
        if (term.taxonomy, term.value) not in present:
            session.add(
                TaxonomyTermRow(
                    taxonomy=term.taxonomy,
                    value=term.value,
                    description=term.description,
                    keywords=list(term.keywords),
                )
            )
    session.add(
        TaxonomyTermRow(taxonomy=_MARKER_TAXONOMY, value=_MARKER_VALUE, description="", keywords=[])
    )
    session.flush()
    return True


def _check_taxonomy(taxonomy: str) -> str:
    if taxonomy not in TAXONOMIES:
        raise InputError(
            f"unknown taxonomy {taxonomy!r}; expected one of {', '.join(TAXONOMIES)}",
            field="taxonomy",
        )
    return taxonomy


def list_terms(session: Session, taxonomy: str | None = None) -> list[TaxonomyTerm]:
    """The workspace's terms (seeding the defaults first), by taxonomy then value."""
    ensure_seeded(session)
    query = select(TaxonomyTermRow).where(TaxonomyTermRow.taxonomy != _MARKER_TAXONOMY)
    if taxonomy is not None:
        query = query.where(TaxonomyTermRow.taxonomy == _check_taxonomy(taxonomy))
    rows = session.scalars(query.order_by(TaxonomyTermRow.taxonomy, TaxonomyTermRow.value))
    return [TaxonomyTerm(r.taxonomy, r.value, r.description, tuple(r.keywords)) for r in rows]


def add_term(
    session: Session,
    taxonomy: str,
    value: str,
    *,
    description: str = "",
    keywords: tuple[str, ...] = (),
) -> TaxonomyTerm:
    """Add a term; Conflict if the taxonomy already has it, spelt alike (see `label_words`)."""
    ensure_seeded(session)
    _check_taxonomy(taxonomy)
    cleaned = " ".join(value.split()).lower()
    if not cleaned or len(cleaned) > 120:
        raise InputError("a term must have 1 to 120 characters", field="value")
    words = label_words(cleaned)
    existing = session.scalars(
        select(TaxonomyTermRow.value).where(TaxonomyTermRow.taxonomy == taxonomy)
    )
    same = next((v for v in existing if label_words(v) == words), None)
    if same is not None:
        alike = "" if same == cleaned else " (labels are matched ignoring '-', '_' and spaces)"
        raise Conflict(f"{taxonomy} already has the term {same!r}{alike}")
    kept = tuple(k.strip() for k in keywords if k.strip())
    session.add(
        TaxonomyTermRow(
            taxonomy=taxonomy, value=cleaned, description=description, keywords=list(kept)
        )
    )
    session.flush()
    session.info.pop(_CACHE, None)
    return TaxonomyTerm(taxonomy, cleaned, description, kept)


def remove_term(session: Session, taxonomy: str, value: str) -> str:
    """Remove the term spelt like ``value`` (as `add_term` matches, see `label_words`) and
    return it as stored; NotFound if there is none, Conflict if several match and none is
    ``value`` exactly."""
    ensure_seeded(session)
    _check_taxonomy(taxonomy)
    cleaned = " ".join(value.split()).lower()
    words = label_words(cleaned)
    existing = session.scalars(
        select(TaxonomyTermRow.value).where(TaxonomyTermRow.taxonomy == taxonomy)
    )
    alike = sorted(v for v in existing if v == cleaned or label_words(v) == words)
    if not alike:
        raise NotFound(f"{taxonomy} has no term {cleaned!r}")
    if cleaned not in alike and len(alike) > 1:
        raise Conflict(
            f"{taxonomy} has the terms {' and '.join(map(repr, alike))}, all spelt like "
            f"{cleaned!r} (labels are matched ignoring '-', '_' and spaces); give the one to "
            "remove exactly as stored"
        )
    stored = cleaned if cleaned in alike else alike[0]
    session.execute(
        delete(TaxonomyTermRow).where(
            TaxonomyTermRow.taxonomy == taxonomy, TaxonomyTermRow.value == stored
        )
    )
    session.info.pop(_CACHE, None)
    return stored


def matching_terms(terms: list[TaxonomyTerm], taxonomy: str, text: str) -> list[str]:
    """Values of ``taxonomy`` whose keywords occur in ``text``, in term order."""
    return [t.value for t in terms if t.taxonomy == taxonomy and t.matches(text)]


def cached_terms(session: Session) -> list[TaxonomyTerm]:
    """All terms, read once per session (edits through this module clear the cache)."""
    if _CACHE not in session.info:
        session.info[_CACHE] = list_terms(session)
    return list(session.info[_CACHE])
