"""RedactionPolicy: what to recognise, whom to protect, what to leave alone, and the key."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from lessonloop.errors import ConfigurationError
from lessonloop.redact.people import Person
from lessonloop.redact.secrets_scan import DEFAULT_DETECT_SECRETS_PLUGINS, available_plugin_names

__all__ = ["RECOGNISER_NAMES", "RedactionPolicy", "Person"]

# Every recogniser a policy can switch on or off, in the order the documentation lists them.
RECOGNISER_NAMES: tuple[str, ...] = (
    "private_key",
    "jwt",
    "bearer",
    "aws",
    "gcp",
    "azure",
    "github",
    "slack",
    "url_password",
    "assignment",
    "detect_secrets",
    "email",
    "phone",
    "ipv4",
    "ipv6",
    "credit_card",
    "people",
    "terms",
)
_MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class RedactionPolicy:
    """Declarative redaction settings; one policy per incident when the roster differs.

    Example::

        policy = RedactionPolicy(
            key=load_or_create_key(settings.redaction_key_path),
            people=(Person("Alice Smith", ("asmith", "@alice")),),
            extra_terms=("Project Nightjar",),
            allow_patterns=(r".*@example\\.com", r"10\\.0\\.0\\.\\d+"),
        )
    """

    key: bytes = field(repr=False)
    enabled: frozenset[str] = frozenset(RECOGNISER_NAMES)
    people: tuple[Person, ...] = ()
    extra_terms: tuple[str, ...] = ()
    allow_patterns: tuple[str, ...] = ()
    detect_secrets_plugins: tuple[str, ...] = DEFAULT_DETECT_SECRETS_PLUGINS
    match_name_parts: bool = True
    derive_handles: bool = True
    redact_keys: bool = True
    secret_fields: bool = True
    token_hex_length: int = 6

    def __post_init__(self) -> None:
        """Accept lists from configuration files; refuse settings that cannot work."""
        object.__setattr__(self, "enabled", frozenset(self.enabled))
        for name in ("people", "extra_terms", "allow_patterns", "detect_secrets_plugins"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not all(isinstance(person, Person) for person in self.people):
            raise ConfigurationError("people must be Person(name, handles) entries")
        if not isinstance(self.key, bytes) or len(self.key) < _MIN_KEY_BYTES:
            raise ConfigurationError(f"redaction key must be at least {_MIN_KEY_BYTES} bytes")
        unknown = sorted(set(self.enabled) - set(RECOGNISER_NAMES))
        if unknown:
            raise ConfigurationError(
                f"unknown recognisers {', '.join(unknown)}; known: {', '.join(RECOGNISER_NAMES)}"
            )
        unknown_plugins = sorted(set(self.detect_secrets_plugins) - set(available_plugin_names()))
        if unknown_plugins:
            raise ConfigurationError(
                f"unknown detect-secrets plugins: {', '.join(unknown_plugins)}"
            )
        for pattern in self.allow_patterns:
            try:
                re.compile(pattern)
            except re.error as error:
                raise ConfigurationError(f"allow pattern {pattern!r} is invalid: {error}") from None
        if not 4 <= self.token_hex_length <= 64:
            raise ConfigurationError("token_hex_length must be between 4 and 64")

    def with_people(self, people: tuple[Person, ...]) -> RedactionPolicy:
        """The same policy with another incident's roster (what importers do per incident)."""
        return replace(self, people=people)

    def without(self, *recognisers: str) -> RedactionPolicy:
        """The same policy with some recognisers switched off."""
        return replace(self, enabled=self.enabled - frozenset(recognisers))
