"""Redaction and tokenisation of everything Lessonloop stores, applied by the importers.

Credentials (detect-secrets plugins plus typed recognisers), personal data (email, phone, IP,
payment cards) and the incident's people are replaced by keyed tokens such as `<email:7f3a2c>`:
the same value always gives the same token under one key, so joins and searches still work.
See docs/redaction.md.
"""

from lessonloop.redact.people import Person
from lessonloop.redact.policy import RECOGNISER_NAMES, RedactionPolicy
from lessonloop.redact.redactor import Redactor
from lessonloop.redact.results import (
    Detection,
    DocumentRedaction,
    RedactionCounts,
    RedactionResult,
)
from lessonloop.redact.secrets_scan import DEFAULT_DETECT_SECRETS_PLUGINS, available_plugin_names
from lessonloop.redact.tokens import (
    TOKEN_PATTERN,
    format_token,
    key_fingerprint,
    load_or_create_key,
)

__all__ = [
    "DEFAULT_DETECT_SECRETS_PLUGINS",
    "RECOGNISER_NAMES",
    "TOKEN_PATTERN",
    "Detection",
    "DocumentRedaction",
    "Person",
    "RedactionCounts",
    "RedactionPolicy",
    "RedactionResult",
    "Redactor",
    "available_plugin_names",
    "format_token",
    "key_fingerprint",
    "load_or_create_key",
]
