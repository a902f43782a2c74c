"""Chat transcripts attached to an incident: a Slack export folder or JSON lines {ts, user, text}.

Messages become timeline events (source "chat"); sentences that read like findings become
candidate insights (provenance "chat transcript", low confidence, tagged ``candidate``) for a
person to confirm in the review; everyone who spoke or was mentioned joins the roster.
"""

from __future__ import annotations

import re
from pathlib import Path

from lessonloop.domain.enums import InsightCategory, InsightKind, ProvenanceSource, TimelineKind
from lessonloop.domain.insights import InsightCreate
from lessonloop.domain.reviews import TimelineEvent
from lessonloop.errors import InputError
from lessonloop.ingest.source_documents import (
    ImportBatch,
    Located,
    build,
    clip,
    load_json,
    load_json_lines,
    read_source_bytes,
)

__all__ = ["parse_chat_jsonl", "parse_slack_folder", "FINDING_PHRASES", "finding_sentences"]

FINDING_PHRASES: dict[str, InsightKind] = {
    "turns out": InsightKind.OBSERVATION,
    "root cause": InsightKind.OBSERVATION,
    "we should": InsightKind.RECOMMENDATION,
    "we need to": InsightKind.RECOMMENDATION,
    "fired late": InsightKind.OBSERVATION,
    "alert fired late": InsightKind.OBSERVATION,
    "no metric for": InsightKind.OBSERVATION,
    "was noise": InsightKind.OBSERVATION,
    "lesson": InsightKind.OBSERVATION,
    "next time": InsightKind.RECOMMENDATION,
}
_TOOLING = ("alert", "metric", "dashboard", "noise", "runbook")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|([^>]+))?>")
_SKIPPED_SUBTYPES = frozenset({"channel_join", "channel_leave", "bot_add", "channel_purpose"})
_CANDIDATE_CONFIDENCE = 0.3


def finding_sentences(text: str) -> list[tuple[str, InsightKind]]:
    """Sentences of a message that read like findings, with the kind of insight they suggest."""
    found: list[tuple[str, InsightKind]] = []
    for match in _SENTENCE.finditer(text):
        sentence = match.group(0).strip()
        lowered = sentence.lower()
        for phrase, kind in FINDING_PHRASES.items():
            if phrase in lowered and len(sentence) >= 12:
                found.append((sentence, kind))
                break
    return found


def _message(item: Located, incident_key: str, users: dict[str, str], batch: ImportBatch) -> None:
    item.obj()
    if item.text("subtype") in _SKIPPED_SUBTYPES:
        return
    at = item.time("ts", required=True)
    user_id = item.text("user") or item.text("username") or item.text("bot_id")
    profile = item.get("user_profile")
    name = users.get(user_id, "")
    if profile.value is not None:
        name = profile.text("real_name") or profile.text("display_name") or name
    name = name or user_id
    batch.add_person(name, user_id if user_id != name else None)

    def mention(match: re.Match[str]) -> str:
        label = match.group(2) or users.get(match.group(1), match.group(1))
        batch.add_person(label, match.group(1))
        return f"@{label}"

    text = _MENTION.sub(mention, item.text("text")).strip()
    if not text:
        return
    event = build(
        TimelineEvent,
        {
            "at": at,
            "kind": TimelineKind.COMMUNICATION,
            "text": text,
            "actor": clip(name, 200) or None,
            "source": "chat",
        },
        item,
    )
    batch.timelines.setdefault(incident_key, []).append(event)
    for sentence, kind in finding_sentences(text):
        lowered = sentence.lower()
        insight = build(
            InsightCreate,
            {
                "kind": kind,
                "text": sentence,
                "category": InsightCategory.TOOLING
                if any(w in lowered for w in _TOOLING)
                else InsightCategory.TECHNICAL,
                "provenance": {
                    "source": ProvenanceSource.CHAT_TRANSCRIPT,
                    "ref": f"{item.source}{'' if item.line is None else f':{item.line}'}",
                    "author": clip(name, 200) or None,
                    "captured_at": at,
                },
                "confidence": _CANDIDATE_CONFIDENCE,
                "tags": ["candidate", "from-chat"],
            },
            item,
        )
        batch.candidate_insights.setdefault(incident_key, []).append(insight)


def _finish(batch: ImportBatch, incident_key: str) -> ImportBatch:
    events = batch.timelines.get(incident_key)
    if events:
        events.sort(key=lambda event: event.at)
    return batch


def parse_chat_jsonl(data: bytes, source: str, *, incident_key: str) -> ImportBatch:
    """JSON lines, one message per line: {"ts": ..., "user": ..., "text": ...}."""
    batch = ImportBatch()
    for line, value in load_json_lines(data, source):
        _message(Located(value, source, "$", line), incident_key, {}, batch)
    return _finish(batch, incident_key)


def _slack_users(folder: Path) -> dict[str, str]:
    for candidate in (folder / "users.json", folder.parent / "users.json"):
        if candidate.is_file():
            root = Located(load_json(read_source_bytes(candidate), str(candidate)), str(candidate))
            users: dict[str, str] = {}
            for user in root.items():
                user.obj()
                profile = user.get("profile")
                real = profile.text("real_name") if profile.value is not None else ""
                users[user.text("id", required=True)] = (
                    user.text("real_name") or real or user.text("name")
                )
            return users
    return {}


def parse_slack_folder(folder: Path, *, incident_key: str) -> ImportBatch:
    """A Slack export channel folder (or export root): day files YYYY-MM-DD.json of messages."""
    day_files = sorted(folder.rglob("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9].json"))
    if not day_files:
        raise InputError("no Slack day files (YYYY-MM-DD.json) in this folder", file=str(folder))
    users = _slack_users(folder)
    batch = ImportBatch()
    for day in day_files:
        root = Located(load_json(read_source_bytes(day), str(day)), str(day))
        for item in root.items():
            _message(item, incident_key, users, batch)
    return _finish(batch, incident_key)
