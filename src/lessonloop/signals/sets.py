"""Signal sets as values: a deterministic content hash and the diff between two versions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lessonloop.domain.common import content_hash
from lessonloop.domain.signals import SignalRead

__all__ = ["set_hash", "SetDiff", "diff_sets"]


def set_hash(signals: Iterable[SignalRead]) -> str:
    """Hash of the members' content hashes, order-free: the same signals give the same hash."""
    return content_hash(sorted(s.content_hash for s in signals))


@dataclass
class SetDiff:
    """Signals added, removed, or changed (same signal id, different content) from A to B."""

    added: list[SignalRead] = field(default_factory=list)
    removed: list[SignalRead] = field(default_factory=list)
    changed: list[tuple[SignalRead, SignalRead]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def diff_sets(old: Iterable[SignalRead], new: Iterable[SignalRead]) -> SetDiff:
    before = {s.id: s for s in old}
    after = {s.id: s for s in new}
    return SetDiff(
        added=[after[i] for i in sorted(after.keys() - before.keys())],
        removed=[before[i] for i in sorted(before.keys() - after.keys())],
        changed=[
            (before[i], after[i])
            for i in sorted(before.keys() & after.keys())
            if before[i].content_hash != after[i].content_hash
        ],
    )
