"""The Redactor: finds sensitive spans in text and replaces them with keyed tokens."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import replace

from lessonloop.errors import InputError
from lessonloop.redact.credentials import CREDENTIAL_RECOGNISERS
from lessonloop.redact.documents import SECRET_FIELD_KIND, redact_json
from lessonloop.redact.people import RosterMatcher
from lessonloop.redact.pii import PII_RECOGNISERS
from lessonloop.redact.policy import RedactionPolicy
from lessonloop.redact.results import Detection, DocumentRedaction, RedactionCounts, RedactionResult
from lessonloop.redact.secrets_scan import DetectSecretsScanner
from lessonloop.redact.spans import PROTECTED_PRIORITY, Candidate, resolve_overlaps
from lessonloop.redact.tokens import TOKEN_PATTERN, format_token

__all__ = ["Redactor"]

# Replacing a value can change what its neighbours look like to a recogniser; a few passes reach
# the fixed point that makes redact(redact(x)) == redact(x) hold without exception.
_MAX_PASSES = 4
_TOKEN_CACHE_LIMIT = 100_000
# Short strings (JSON keys, statuses, service names) recur across thousands of payloads; their
# results are remembered. Results are immutable, so sharing them is safe.
_CACHED_TEXT_LENGTH = 120
_RESULT_CACHE_LIMIT = 50_000
# Every pattern recogniser and every detect-secrets gate needs one of these in the text (a
# digit, `@`, an assignment or URL colon, a key marker, a token prefix, a 20-character run).
# Most short JSON values ("resolved", "checkout-api") have none and go straight to the roster;
# tests check that skipping them changes no result.
_WORTH_SCANNING = re.compile(
    r"[\d@:=;]|-----|PRIVATE KEY|eyJ|[Bb]earer|xox|xapp|Q~|\bA(?:KC|P[\dA-F])"
    r"|(?<![\w+/=.~-])[\w+/=.~-]{20}"
)


class Redactor:
    """Applies one RedactionPolicy; cheap to build (one per incident) and meant to be reused.

    It remembers tokens and the results for short strings, so reuse it for every field of an
    import rather than building one per call.

    Example::

        redactor = Redactor(policy)
        result = redactor.redact_text("page alice@example.org, token=ghp_...")
        result.text    # 'page <email:1c9e0a>, token=<github_token:5be210>'
        result.counts  # RedactionCounts({'email': 1, 'github_token': 1})
    """

    def __init__(self, policy: RedactionPolicy) -> None:
        self.policy = policy
        enabled = policy.enabled
        self._recognisers = tuple(
            recogniser
            for recogniser in (*CREDENTIAL_RECOGNISERS, *PII_RECOGNISERS)
            if recogniser.name in enabled
        )
        self._secrets = (
            DetectSecretsScanner(policy.detect_secrets_plugins)
            if "detect_secrets" in enabled and policy.detect_secrets_plugins
            else None
        )
        self._find_people = "people" in enabled and bool(policy.people)
        self._find_terms = "terms" in enabled and bool(policy.extra_terms)
        self._roster = RosterMatcher(
            policy.people,
            policy.extra_terms,
            match_name_parts=policy.match_name_parts,
            derive_handles=policy.derive_handles,
        )
        self._allow = (
            re.compile("|".join(f"(?:{pattern})" for pattern in policy.allow_patterns))
            if policy.allow_patterns
            else None
        )
        self._tokens: dict[tuple[str, str], str] = {}
        self._short_results: dict[str, RedactionResult] = {}
        self._skip_unremarkable_text = True

    def _candidates(self, text: str) -> Iterator[Candidate]:
        """Every span any enabled recogniser reports, plus existing tokens to leave alone."""
        if not self._skip_unremarkable_text or _WORTH_SCANNING.search(text):
            for match in TOKEN_PATTERN.finditer(text):
                yield Candidate(
                    match.start(), match.end(), "token", PROTECTED_PRIORITY, "", keep=True
                )
            lowered = text.lower()
            for recogniser in self._recognisers:
                yield from recogniser.find(text, lowered)
            if self._secrets is not None:
                yield from self._secrets.find(text)
        if self._find_people or self._find_terms:
            yield from self._roster.find(text, people=self._find_people, terms=self._find_terms)

    def _resolved(self, text: str) -> list[Candidate]:
        """Non-overlapping spans to replace; allow-listed values are kept but block overlaps."""
        candidates: Iterable[Candidate] = self._candidates(text)
        if self._allow is not None:
            allow = self._allow
            candidates = [
                replace(c, keep=True) if allow.fullmatch(text[c.start : c.end]) else c
                for c in candidates
            ]
        return [c for c in resolve_overlaps(candidates) if not c.keep]

    def token(self, kind: str, normalised_value: str) -> str:
        """The token for an already normalised value (cached: the same value recurs often)."""
        cache_key = (kind, normalised_value)
        token = self._tokens.get(cache_key)
        if token is None:
            if len(self._tokens) >= _TOKEN_CACHE_LIMIT:
                self._tokens.clear()
            token = format_token(
                kind, normalised_value, self.policy.key, self.policy.token_hex_length
            )
            self._tokens[cache_key] = token
        return token

    def scan(self, text: str) -> list[Detection]:
        """Positions and kinds of what redact_text would replace in its first pass."""
        return [Detection(c.start, c.end, c.kind) for c in self._resolved(text)]

    def redact_text(self, text: str) -> RedactionResult:
        """Replace each sensitive value in `text` by its token; idempotent, never fails on a str."""
        if not isinstance(text, str):
            raise InputError(f"redact_text needs a str, got {type(text).__name__}")
        if len(text) > _CACHED_TEXT_LENGTH:
            return self._redact_uncached(text)
        result = self._short_results.get(text)
        if result is None:
            if len(self._short_results) >= _RESULT_CACHE_LIMIT:
                self._short_results.clear()
            result = self._short_results[text] = self._redact_uncached(text)
        return result

    def _redact_uncached(self, text: str) -> RedactionResult:
        """Replace spans pass after pass until nothing changes (at most _MAX_PASSES)."""
        counts: Counter[str] = Counter()
        current = text
        for _ in range(_MAX_PASSES):
            spans = self._resolved(current)
            if not spans:
                break
            pieces: list[str] = []
            position = 0
            for span in spans:
                pieces.append(current[position : span.start])
                pieces.append(self.token(span.kind, span.normalised))
                counts[span.kind] += 1
                position = span.end
            pieces.append(current[position:])
            current = "".join(pieces)
        return RedactionResult(current, RedactionCounts(dict(sorted(counts.items()))))

    def redact_document(self, document: object) -> DocumentRedaction:
        """Redact every string (and, by policy, every key) of a nested dict/list JSON value."""
        return redact_json(
            document,
            redact_text=self.redact_text,
            secret_token=lambda value: self.token(SECRET_FIELD_KIND, value),
            redact_keys=self.policy.redact_keys,
            secret_fields=self.policy.secret_fields,
        )
