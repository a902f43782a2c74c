"""Workspace settings for signals (<home>/signals.yaml): auto-accept and quality policies."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import yaml
from sqlalchemy.orm import Session

from lessonloop.domain.enums import SignalKind
from lessonloop.domain.signals import SignalRead
from lessonloop.errors import InputError
from lessonloop.services.workspace import Workspace
from lessonloop.signals.extract_model import MODEL_EXTRACTOR
from lessonloop.signals.quality import QualityPolicy
from lessonloop.storage import series

__all__ = ["AutoAcceptPolicy", "SignalConfig", "load_config", "series_by_service"]


@dataclass(frozen=True)
class AutoAcceptPolicy:
    """Accept structured proposals of these kinds at or above a confidence (off by default)."""

    enabled: bool = False
    kinds: frozenset[SignalKind] = frozenset({SignalKind.INCIDENT_WINDOW, SignalKind.ALERT_VERDICT})
    min_confidence: float = 0.9

    def allows(self, signal: SignalRead) -> bool:
        return (
            self.enabled
            and signal.kind in self.kinds
            and signal.confidence >= self.min_confidence
            and signal.provenance.extractor.startswith("structure.")
            and signal.provenance.extractor != MODEL_EXTRACTOR
        )


@dataclass(frozen=True)
class SignalConfig:
    auto_accept: AutoAcceptPolicy = AutoAcceptPolicy()
    quality: QualityPolicy = QualityPolicy()


def load_config(ws: Workspace) -> SignalConfig:
    """``<home>/signals.yaml``: ``auto_accept: {enabled, kinds, min_confidence}``, ``quality``."""
    path = ws.settings.home / "signals.yaml"
    if not path.is_file():
        return SignalConfig()
    try:
        data = yaml.safe_load(path.read_text("utf-8")) or {}
        auto = dict(data.get("auto_accept") or {})
        policy = AutoAcceptPolicy(
            enabled=bool(auto.get("enabled", False)),
            kinds=frozenset(
                SignalKind(k)
                for k in auto.get(
                    "kinds", [SignalKind.INCIDENT_WINDOW.value, SignalKind.ALERT_VERDICT.value]
                )
            ),
            min_confidence=float(auto.get("min_confidence", 0.9)),
        )
        return SignalConfig(policy, QualityPolicy.from_mapping(dict(data.get("quality") or {})))
    except (yaml.YAMLError, ValueError, TypeError, AttributeError) as exc:
        raise InputError(str(exc).splitlines()[0], file=str(path)) from exc


def series_by_service(session: Session) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for service, name, *_ in series.list_series(session=session):
        out[service].append(name)
    return dict(out)
