"""detect-secrets plugins run through its Python API, line by line, on lines that could hold one."""

from __future__ import annotations

import bisect
import functools
import itertools
import re
from collections.abc import Iterator

from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
from detect_secrets.plugins.base import BasePlugin
from detect_secrets.plugins.high_entropy_strings import HighEntropyStringsPlugin

from lessonloop.errors import ConfigurationError
from lessonloop.redact.spans import Candidate

__all__ = [
    "DEFAULT_DETECT_SECRETS_PLUGINS",
    "DetectSecretsScanner",
    "available_plugin_names",
    "is_plausible_secret_line",
]

_PRIORITY = 75

# Hex high-entropy strings flag commit ids and UUIDs that reviews rightly keep; public IPs are
# handled (with octet validation and IPv6) by the typed `ipv4` recogniser.
DEFAULT_DETECT_SECRETS_PLUGINS: tuple[str, ...] = (
    "ArtifactoryDetector",
    "AWSKeyDetector",
    "AzureStorageKeyDetector",
    "BasicAuthDetector",
    "CloudantDetector",
    "DiscordBotTokenDetector",
    "GitHubTokenDetector",
    "GitLabTokenDetector",
    "Base64HighEntropyString",
    "IbmCloudIamDetector",
    "IbmCosHmacDetector",
    "JwtTokenDetector",
    "KeywordDetector",
    "MailchimpDetector",
    "NpmDetector",
    "OpenAIDetector",
    "PrivateKeyDetector",
    "PypiTokenDetector",
    "SendGridDetector",
    "SlackDetector",
    "SoftlayerDetector",
    "SquareOAuthDetector",
    "StripeDetector",
    "TelegramBotTokenDetector",
    "TwilioKeyDetector",
)

_KIND_BY_PLUGIN = {
    "AWSKeyDetector": "aws_key",
    "AzureStorageKeyDetector": "azure_key",
    "BasicAuthDetector": "url_password",
    "GitHubTokenDetector": "github_token",
    "JwtTokenDetector": "jwt",
    "KeywordDetector": "password",
    "PrivateKeyDetector": "private_key",
    "SlackDetector": "slack_token",
}


class _PatternGate:
    """Lines on which a pattern matches (patterns that never cross a newline)."""

    def __init__(self, pattern: str) -> None:
        self.pattern = re.compile(pattern)

    def search(self, line: str) -> bool:
        """Whether one line passes."""
        return self.pattern.search(line) is not None

    def line_indexes(self, text: str, lines: list[str], line_offsets: list[int]) -> list[int]:
        """Indexes of passing lines: one search over the whole text, hits mapped to lines."""
        hits = {
            bisect.bisect_right(line_offsets, hit.start()) - 1
            for hit in self.pattern.finditer(text)
        }
        return sorted(hits)


class _KeywordAndQuoteGate:
    """Lines with a word KeywordDetector looks for and a quote (it requires quoted values).

    Found with `str.find` on the lower-cased text: several times faster than a regex here.
    """

    words = ("pass", "pwd", "secret", "key", "contrase")
    quotes = ('"', "'", "`")

    def search(self, line: str) -> bool:
        """Whether one line passes."""
        lowered = line.lower()
        return any(q in line for q in self.quotes) and any(w in lowered for w in self.words)

    def line_indexes(self, text: str, lines: list[str], line_offsets: list[int]) -> list[int]:
        """Indexes of passing lines."""
        lowered = text.lower()
        if len(lowered) != len(text):  # lower-casing moved offsets: test line by line
            return [index for index, line in enumerate(lines) if self.search(line)]
        hits: set[int] = set()
        for word in self.words:
            at = lowered.find(word)
            while at >= 0:
                hits.add(bisect.bisect_right(line_offsets, at) - 1)
                at = lowered.find(word, at + 1)
        return sorted(i for i in hits if any(q in lines[i] for q in self.quotes))


# A plugin runs only on lines that carry what it needs; measured on the public postmortems this
# leaves about one line in eleven. Plugins not listed use the token gate: a run of 20 token
# characters (every shipped token format is at least that long) or an Artifactory-style prefix.
_TOKEN_GATE = _PatternGate(r"(?<![\w+/=.~-])[\w+/=.~-]{20}|\bA(?:KC|P[\dA-F])[a-zA-Z0-9]{8}")
_GATE_BY_PLUGIN: dict[str, _PatternGate | _KeywordAndQuoteGate] = {
    "KeywordDetector": _KeywordAndQuoteGate(),
    "BasicAuthDetector": _PatternGate(r"://[^\s]*:[^\s]*@"),
    "PrivateKeyDetector": _PatternGate(r"PRIVATE KEY|PuTTY"),
}
_PER_LINE = frozenset({"KeywordDetector"})
_VALUE_EDGES = " \t\"'=:`"


def is_plausible_secret_line(line: str) -> bool:
    """Cheap pre-check: could any default plugin report something on this line?"""
    return _TOKEN_GATE.search(line) or any(gate.search(line) for gate in _GATE_BY_PLUGIN.values())


@functools.lru_cache(maxsize=1)
def _plugin_classes() -> dict[str, type[BasePlugin]]:
    """detect-secrets plugin classes by class name."""
    classes: list[type[BasePlugin]] = list(get_mapping_from_secret_type_to_class().values())
    return {plugin_class.__name__: plugin_class for plugin_class in classes}


def available_plugin_names() -> tuple[str, ...]:
    """Class names of every plugin detect-secrets ships (what a policy may switch on)."""
    return tuple(sorted(_plugin_classes()))


@functools.lru_cache(maxsize=16)
def _instantiate(names: tuple[str, ...]) -> tuple[BasePlugin, ...]:
    """One instance of each named plugin, shared by every scanner with the same list."""
    by_name = _plugin_classes()
    unknown = sorted(set(names) - set(by_name))
    if unknown:
        raise ConfigurationError(f"unknown detect-secrets plugins: {', '.join(unknown)}")
    return tuple(by_name[name]() for name in names)


class DetectSecretsScanner:
    """Runs the configured detect-secrets plugins over the lines of a text that pass their gate.

    KeywordDetector reports only the first match of each of its patterns per call, so it runs
    line by line; every other plugin reports all matches and runs once over the gated lines
    joined together, which is several times cheaper than one call per line.
    """

    def __init__(self, plugin_names: tuple[str, ...]) -> None:
        plugins = _instantiate(plugin_names)
        groups = []
        for gate in (_TOKEN_GATE, *_GATE_BY_PLUGIN.values()):
            members = tuple(
                (plugin, _KIND_BY_PLUGIN.get(type(plugin).__name__, "secret"))
                for plugin in plugins
                if _GATE_BY_PLUGIN.get(type(plugin).__name__, _TOKEN_GATE) is gate
            )
            for per_line in (True, False):
                chosen = tuple(m for m in members if (type(m[0]).__name__ in _PER_LINE) == per_line)
                if chosen:
                    groups.append((gate, per_line, chosen))
        self._groups = tuple(groups)

    def _values(self, plugin: BasePlugin, string: str) -> Iterator[str]:
        """Raw secret values a plugin reports (entropy plugins: only those above their limit)."""
        for value in plugin.analyze_string(string):
            if isinstance(plugin, HighEntropyStringsPlugin) and (
                plugin.calculate_shannon_entropy(value) <= plugin.entropy_limit
            ):
                continue
            stripped = value.strip(_VALUE_EDGES)
            if len(stripped) >= 4 and "\n" not in stripped:
                yield stripped

    def _scan(
        self, chunk: str, plugins: tuple[tuple[BasePlugin, str], ...]
    ) -> Iterator[tuple[int, int, str, str]]:
        """(start, end, kind, value) in `chunk` for every occurrence of every reported value."""
        for plugin, kind in plugins:
            for value in dict.fromkeys(self._values(plugin, chunk)):  # each value located once
                position = chunk.find(value)
                while position >= 0:
                    yield position, position + len(value), kind, value
                    position = chunk.find(value, position + len(value))

    def find(self, text: str) -> Iterator[Candidate]:
        """Yield a candidate for every occurrence of every value a plugin reports."""
        lines = text.split("\n")
        line_offsets = list(itertools.accumulate((len(line) + 1 for line in lines), initial=0))
        for gate, per_line, plugins in self._groups:
            chosen = gate.line_indexes(text, lines, line_offsets)
            if not chosen:
                continue
            if per_line:
                for index in chosen:
                    for start, end, kind, value in self._scan(lines[index], plugins):
                        offset = line_offsets[index]
                        yield Candidate(offset + start, offset + end, kind, _PRIORITY, value)
                continue
            bodies = [lines[index] for index in chosen]
            joined_starts = list(itertools.accumulate((len(b) + 1 for b in bodies), initial=0))
            for start, end, kind, value in self._scan("\n".join(bodies), plugins):
                row = bisect.bisect_right(joined_starts, start) - 1
                offset = line_offsets[chosen[row]] - joined_starts[row]
                yield Candidate(offset + start, offset + end, kind, _PRIORITY, value)
