"""Redaction of nested JSON-like documents (dicts, lists, strings, numbers) from importers."""

from __future__ import annotations

import functools
from collections import Counter
from collections.abc import Callable

from lessonloop.errors import InputError
from lessonloop.redact.credentials import SECRET_FIELD_NAME, is_placeholder
from lessonloop.redact.results import DocumentRedaction, RedactionCounts, RedactionResult
from lessonloop.redact.tokens import TOKEN_PATTERN

__all__ = ["SECRET_FIELD_KIND", "redact_json"]

SECRET_FIELD_KIND = "password"
_MAX_DEPTH = 200
_KEPT_SCALARS = frozenset({int, float, bool})


@functools.lru_cache(maxsize=4096)
def _is_secret_field(name: str) -> bool:
    """Whether a field name ends in a credential key word (cached: schemas repeat their keys)."""
    return SECRET_FIELD_NAME.search(name) is not None


class _Walk:
    """One traversal: carries the callbacks and accumulates counts."""

    def __init__(
        self,
        redact_text: Callable[[str], RedactionResult],
        secret_token: Callable[[str], str],
        redact_keys: bool,
        secret_fields: bool,
    ) -> None:
        self.redact_text = redact_text
        self.secret_token = secret_token
        self.redact_keys = redact_keys
        self.secret_fields = secret_fields
        self.counts: Counter[str] = Counter()

    def text(self, value: str) -> str:
        """Redact one string and count what changed."""
        result = self.redact_text(value)
        if result.counts.by_kind:
            self.counts.update(result.counts.by_kind)
        return result.text

    def secret_value(self, value: object) -> object | None:
        """The token for the value of a credential-named field, or None to redact it normally."""
        if isinstance(value, bool) or not isinstance(value, str | int):
            return None
        text = str(value)
        if not text.strip() or is_placeholder(text) or TOKEN_PATTERN.fullmatch(text):
            return None
        self.counts[SECRET_FIELD_KIND] += 1
        return self.secret_token(text)

    def key(self, key: object, taken: dict[object, object], path: str) -> object:
        """The redacted key; a clash between two redacted keys gets a `~2`, `~3` suffix."""
        if not isinstance(key, str):
            if isinstance(key, int | float | bool) or key is None:
                return key
            raise InputError(f"cannot redact a key of type {type(key).__name__}", field=path)
        new_key = self.text(key) if self.redact_keys else key
        candidate, number = new_key, 1
        while candidate in taken:
            number += 1
            candidate = f"{new_key}~{number}"
        return candidate

    def mapping(self, value: dict[object, object], path: str, depth: int) -> dict[object, object]:
        """The redacted copy of a dict: keys, credential-named fields, then every value."""
        redacted: dict[object, object] = {}
        for key, item in value.items():
            new_key = self.key(key, redacted, path)
            if self.secret_fields and type(key) is str and _is_secret_field(key):
                secret = self.secret_value(item)
                if secret is not None:
                    redacted[new_key] = secret
                    continue
            if type(item) is str:
                redacted[new_key] = self.text(item)
            elif item is None or type(item) in _KEPT_SCALARS:
                redacted[new_key] = item
            else:
                redacted[new_key] = self.value(item, f"{path}.{key}", depth + 1)
        return redacted

    def value(self, value: object, path: str, depth: int) -> object:
        """The redacted copy of any JSON-like value."""
        if depth > _MAX_DEPTH:
            raise InputError(f"document nested deeper than {_MAX_DEPTH} levels", field=path)
        if isinstance(value, str):
            return self.text(value)
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, dict):
            return self.mapping(value, path, depth)
        if isinstance(value, list | tuple):
            return [
                self.text(item)
                if type(item) is str
                else self.value(item, f"{path}[{index}]", depth + 1)
                for index, item in enumerate(value)
            ]
        raise InputError(
            f"cannot redact a value of type {type(value).__name__} (expected JSON-like data)",
            field=path,
        )


def redact_json(
    document: object,
    *,
    redact_text: Callable[[str], RedactionResult],
    secret_token: Callable[[str], str],
    redact_keys: bool = True,
    secret_fields: bool = True,
) -> DocumentRedaction:
    """A redacted copy of `document`: strings redacted, credential-named fields tokenised whole.

    Numbers, booleans and None are kept (they are measurements and flags, not text); tuples come
    back as lists; any other type raises InputError naming the field path (`$.a[0].b`).
    """
    walk = _Walk(redact_text, secret_token, redact_keys, secret_fields)
    redacted = walk.value(document, "$", 0)
    return DocumentRedaction(redacted, RedactionCounts(dict(sorted(walk.counts.items()))))
