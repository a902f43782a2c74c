"""Credential recognisers: private key blocks, tokens, cloud keys, URL passwords, assignments."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from lessonloop.redact.spans import Candidate, PatternRecogniser

__all__ = ["CREDENTIAL_RECOGNISERS", "SECRET_FIELD_NAME", "is_placeholder"]

# Priorities: a whole private key block beats anything inside it; a specific token format
# beats the generic `password=...` rule that would cover the same value.
_BLOCK = 90
_SPECIFIC = 85
_GENERIC = 80

_KEY_WORDS = (
    r"password|passwd|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key"
    r"|secret[_-]?key|private[_-]?key|auth[_-]?key|client[_-]?secret|credentials?"
)
# In the lower-cased text: a key word directly followed by an assignment operator.
_ASSIGNMENT_GATE = re.compile(rf"(?:{_KEY_WORDS})[\"']?\s*[:=]")
# A field or header name ending in a key word (db_password, apiKey, X-Auth-Token): its value is
# a secret whatever it looks like (used for documents). Use with `.search`.
SECRET_FIELD_NAME = re.compile(
    rf"(?:{_KEY_WORDS}|authorization|cookie|session[_-]?id)$",
    re.IGNORECASE,
)
_PLACEHOLDER = re.compile(
    r"(?:\*+|x{3,}|\.{3,}|<[^>]*>|\$\{[^}]*\}?|\$[A-Z_][A-Z0-9_]*|\{\{[^}]*\}\}|%\([^)]*\)s"
    r"|true|false|null|none|nil|undefined|redacted|hidden|masked|required|optional)",
    re.IGNORECASE,
)


def is_placeholder(value: str) -> bool:
    """Whether a value stands for a secret rather than being one (`***`, `${DB_PASSWORD}`)."""
    return _PLACEHOLDER.fullmatch(value.strip()) is not None


def _not_placeholder(value: str) -> bool:
    """Accept a value unless it is a placeholder."""
    return not is_placeholder(value)


def _looks_secret(value: str) -> bool:
    """Whether an unquoted `key: value` in prose looks like a credential, not an English word."""
    if not _not_placeholder(value) or len(value) < 6:
        return False
    has_digit = any(ch.isdigit() for ch in value)
    has_symbol = any(not ch.isalnum() for ch in value)
    mixed_case = value.lower() != value and value.upper() != value
    return has_digit or has_symbol or (mixed_case and len(value) >= 8)


def _random_looking(value: str) -> bool:
    """Whether a bearer value looks generated (letters and digits, or long) rather than prose."""
    has_digit = any(ch.isdigit() for ch in value)
    has_alpha = any(ch.isalpha() for ch in value)
    return (has_digit and has_alpha) or len(value) >= 24


def _pem_body(value: str) -> str:
    """Normalise a key block to its base64 body so raw and JSON-escaped copies share a token."""
    lines = value.replace("\\n", "\n").splitlines()
    return "".join(line.strip() for line in lines if line.strip() and "-----" not in line)


_PEM_BEGIN = re.compile(r"-----BEGIN[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
_PEM_END = re.compile(r"-----END[ A-Z0-9]{0,40}PRIVATE KEY(?: BLOCK)?-----")
# What follows a header whose END line is missing (a truncated paste): base64 lines and the
# `Proc-Type: 4,ENCRYPTED` style headers of legacy encrypted keys.
_PEM_TRUNCATED_BODY = re.compile(
    r"(?:(?:\s|\\n)+(?:[A-Z][A-Za-z-]+: [A-Za-z0-9,-]+|[A-Za-z0-9+/=]{8,}))*"
)


@dataclass(frozen=True)
class PrivateKeyBlocks:
    """Whole private key blocks (PEM, OpenSSH, PGP), multi-line or with escaped `\\n`.

    Each BEGIN header extends to its END line, or, when the END line is missing before the next
    header, over the base64 lines that follow it. Written as a scan rather than one regex so
    that many unterminated headers cost linear time.
    """

    name: str = "private_key"
    kind: str = "private_key"
    priority: int = _BLOCK

    def find(self, text: str, lowered: str | None = None) -> Iterator[Candidate]:
        """Yield one candidate per key block."""
        if "PRIVATE KEY" not in text:
            return
        headers = list(_PEM_BEGIN.finditer(text))
        for index, header in enumerate(headers):
            limit = headers[index + 1].start() if index + 1 < len(headers) else len(text)
            closing = _PEM_END.search(text, header.end(), limit)
            if closing is not None:
                end = closing.end()
            else:
                body = _PEM_TRUNCATED_BODY.match(text, header.end(), limit)
                end = body.end() if body is not None else header.end()
            value = text[header.start() : end]
            yield Candidate(header.start(), end, self.kind, self.priority, _pem_body(value))


_UNQUOTED = r"[^\s\"'`,;)}\]<>]"
_VALUE_END = r"(?=[.:]?(?:[\s\"'`,;)}\]<>]|$))"  # a sentence's full stop is not part of it
_B = r"(?<![\w-])"  # start boundary for token-like values
_E = r"(?![\w-])"  # end boundary for token-like values

CREDENTIAL_RECOGNISERS: tuple[PatternRecogniser | PrivateKeyBlocks, ...] = (
    PrivateKeyBlocks(),
    PatternRecogniser(
        "jwt",
        "jwt",
        _SPECIFIC + 1,
        re.compile(rf"{_B}eyJ[A-Za-z0-9_-]{{8,}}\.eyJ[A-Za-z0-9_-]{{8,}}\.[A-Za-z0-9_-]*"),
        hints=("eyJ",),
    ),
    PatternRecogniser(
        "bearer",
        "bearer",
        _SPECIFIC,
        re.compile(
            r"(?:\b[Bb]earer|\bAuthorization:\s*(?:Basic|Token|Bearer|Digest))\s+"
            r"(?P<value>[A-Za-z0-9._~+/-]{12,}=*)",
        ),
        group="value",
        accept=_random_looking,
        hints=("earer", "Authorization"),
    ),
    PatternRecogniser(
        "aws",
        "aws_key",
        _SPECIFIC,
        re.compile(
            r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|APKA)"
            r"[A-Z0-9]{16}(?![A-Z0-9])"
        ),
        hints=(
            "AKIA",
            "ASIA",
            "ABIA",
            "ACCA",
            "AGPA",
            "AIDA",
            "AROA",
            "AIPA",
            "ANPA",
            "ANVA",
            "APKA",
        ),
    ),
    PatternRecogniser(
        "aws",
        "aws_key",
        _SPECIFIC,
        re.compile(
            r"aws[\w.-]{0,30}?(?:secret|key)[\w.-]*[\"']?\s*[:=]\s*[\"']?"
            r"(?P<value>[A-Za-z0-9/+]{40})(?![A-Za-z0-9/+])",
            re.IGNORECASE,
        ),
        group="value",
        hints=("aws",),
        hints_ignore_case=True,
    ),
    PatternRecogniser(
        "gcp",
        "gcp_key",
        _SPECIFIC,
        re.compile(
            rf"{_B}(?:AIza[0-9A-Za-z_-]{{35}}|ya29\.[0-9A-Za-z_-]{{20,}}"
            rf"|GOCSPX-[0-9A-Za-z_-]{{24,}}|1//0[0-9A-Za-z_-]{{30,}}){_E}"
        ),
        hints=("AIza", "ya29.", "GOCSPX-", "1//0"),
    ),
    PatternRecogniser(
        "azure",
        "azure_key",
        _SPECIFIC,
        re.compile(
            r"(?:AccountKey|SharedAccessKey|AccessKey|sig)=(?P<value>[A-Za-z0-9+/%]{20,}={0,2})"
        ),
        group="value",
        hints=("Key=", "sig="),
    ),
    PatternRecogniser(
        "azure",
        "azure_key",
        _SPECIFIC,
        re.compile(rf"{_B}[A-Za-z0-9_~.-]{{3}}\dQ~[A-Za-z0-9_~.-]{{31,34}}{_E}"),
        hints=("Q~",),
    ),
    PatternRecogniser(
        "github",
        "github_token",
        _SPECIFIC,
        re.compile(
            rf"{_B}(?:gh[pousr]_[A-Za-z0-9]{{36,255}}|github_pat_[A-Za-z0-9_]{{22,255}}){_E}"
        ),
        hints=("gh", "github_pat_"),
    ),
    PatternRecogniser(
        "slack",
        "slack_token",
        _SPECIFIC,
        re.compile(rf"{_B}(?:xox[abposre]-[A-Za-z0-9-]{{10,250}}|xapp-\d-[A-Za-z0-9-]{{10,250}})"),
        hints=("xox", "xapp-"),
    ),
    PatternRecogniser(
        "slack",
        "slack_token",
        _SPECIFIC,
        re.compile(
            r"hooks\.slack\.com/(?:services|workflows|triggers)/"
            r"(?P<value>[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)+)"
        ),
        group="value",
        hints=("hooks.slack.com",),
    ),
    PatternRecogniser(
        "url_password",
        "url_password",
        _SPECIFIC,
        re.compile(
            r"\b[A-Za-z][A-Za-z0-9+.-]{1,20}://[^:/?#@\s\"'<>]{1,200}:"
            r"(?P<value>[^@/?#\s\"'<>]{1,200})@"
        ),
        group="value",
        accept=_not_placeholder,
        hints=("://",),
    ),
    PatternRecogniser(  # ?token=... in a URL query: the value stops at `&`
        "assignment",
        "password",
        _GENERIC + 1,
        re.compile(
            rf"[?&;][\w.-]*?(?:{_KEY_WORDS}|sig|signature|code)=(?P<value>[^&\s#\"'<>]{{4,500}})",
            re.IGNORECASE,
        ),
        group="value",
        accept=_not_placeholder,
        hints=("=",),
    ),
    PatternRecogniser(  # password = "..." / "token": '...' (quoted value: anything goes)
        "assignment",
        "password",
        _GENERIC,
        re.compile(
            rf"(?:{_KEY_WORDS})[\"']?\s*(?:=>|:=|[:=])\s*"
            r"(?P<quote>[\"'])(?P<value>[^\"'\n]{3,500})(?P=quote)",
            re.IGNORECASE,
        ),
        group="value",
        accept=_not_placeholder,
        gate=_ASSIGNMENT_GATE,
    ),
    PatternRecogniser(  # password=hunter2 (unquoted, `=`: any single word of 4+ characters)
        "assignment",
        "password",
        _GENERIC,
        re.compile(
            rf"(?:{_KEY_WORDS})\s*(?:=>|:=|=)\s*"
            rf"(?P<value>{_UNQUOTED}{{4,500}}?){_VALUE_END}",
            re.IGNORECASE,
        ),
        group="value",
        accept=_not_placeholder,
        gate=_ASSIGNMENT_GATE,
    ),
    PatternRecogniser(  # curl -u user:password, --user user:password
        "assignment",
        "password",
        _GENERIC,
        re.compile(  # not uid:gid (docker -u 1000:1000) nor user:group (-u app:app)
            r"(?<!\S)(?:-u|--user)[ =](?P<user>[^\s:]{1,100}):"
            r"(?!(?P=user)(?:\s|$))(?!\d+(?:\s|$))(?P<value>[^\s@]{3,200})"
        ),
        group="value",
        accept=_not_placeholder,
        hints=("-u", "--user"),
    ),
    PatternRecogniser(  # mysql -pPASSWORD (the password glued to the flag)
        "assignment",
        "password",
        _GENERIC,
        re.compile(r"\bmysql\w*\b[^\n]*?(?<!\S)-p(?P<value>[^\s\"']{3,200})"),
        group="value",
        accept=_not_placeholder,
        hints=("mysql",),
    ),
    PatternRecogniser(  # token: abc123 (unquoted, `:`: only values that do not read as words)
        "assignment",
        "password",
        _GENERIC,
        re.compile(
            rf"(?:{_KEY_WORDS}):[ \t]*"
            rf"(?P<value>{_UNQUOTED}{{6,500}}?){_VALUE_END}",
            re.IGNORECASE,
        ),
        group="value",
        accept=_looks_secret,
        gate=_ASSIGNMENT_GATE,
    ),
)
