"""Every recogniser, token kind and policy setting is documented in docs/redaction.md."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from lessonloop.redact import RECOGNISER_NAMES, RedactionPolicy
from lessonloop.redact.credentials import CREDENTIAL_RECOGNISERS
from lessonloop.redact.pii import PII_RECOGNISERS
from lessonloop.redact.secrets_scan import _KIND_BY_PLUGIN

DOC = Path(__file__).resolve().parents[3] / "docs" / "redaction.md"
KINDS = sorted(
    {r.kind for r in (*CREDENTIAL_RECOGNISERS, *PII_RECOGNISERS)}
    | set(_KIND_BY_PLUGIN.values())
    | {"secret", "person", "term"}
)
FIELDS = [field.name for field in dataclasses.fields(RedactionPolicy)]


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [*RECOGNISER_NAMES, *KINDS, *FIELDS])
def test_documented(doc: str, name: str) -> None:
    assert f"`{name}`" in doc
