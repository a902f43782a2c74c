"""A demo-like workspace for signal tests: services, series and one imported review file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

REVIEW_FILE = Path(__file__).with_name("data") / "review_checkout.md"


@pytest.fixture
def review_file() -> Path:
    return REVIEW_FILE


@pytest.fixture
def demo_ws(workspace):
    """The workspace with checkout/payments registered, a latency series, and the review."""
    from lessonloop.domain import ServiceCreate
    from lessonloop.services.reviews import import_review
    from lessonloop.storage import series, services

    with workspace.transaction() as session:
        for name in ("checkout", "payments"):
            services.create(ServiceCreate(name=name), session=session, actor="tester")
        ts = np.arange(1772445600, 1772445600 + 3600 * 4, 60)
        series.put("checkout", "latency_p99", ts, np.ones(ts.size), session=session, actor="t")
    import_review(workspace, REVIEW_FILE, create_incident=True)
    return workspace
