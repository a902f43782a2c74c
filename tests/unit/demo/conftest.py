"""A small generated organisation shared by the demo tests (one quarter, 15-minute steps)."""

from __future__ import annotations

import pytest

from lessonloop.demo.generate import GeneratedOrg, generate_organisation

SMALL = {"seed": 11, "quarters": 1, "step_minutes": 15}


@pytest.fixture(scope="session")
def small_settings() -> dict[str, int]:
    """The settings of the shared small organisation."""
    return dict(SMALL)


@pytest.fixture(scope="session")
def small_org(tmp_path_factory: pytest.TempPathFactory) -> GeneratedOrg:
    """One generated organisation, written once for all demo tests."""
    return generate_organisation(tmp_path_factory.mktemp("org") / "demo", **SMALL)
