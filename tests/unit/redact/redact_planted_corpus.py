"""A generated corpus of incident data with planted secrets and personal data (nothing copied).

Every planted value is random (seeded), embedded in realistic text of the five import formats:
PagerDuty incident JSON, Opsgenie alert JSON, Alertmanager webhook JSON, Slack messages and
Markdown postmortems. Each planted item lists the distinctive substrings that must not survive.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import random
import string
from collections.abc import Callable
from dataclasses import dataclass

from lessonloop.redact import Person

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
PASSWORD_CHARS = ALNUM + "!%^*_+-~"
FORMATS = ("pagerduty", "opsgenie", "alertmanager", "slack", "markdown")

# Invented people: first names that are not calendar words, surnames unlikely in other text.
ROSTER = (
    Person("Ilse Varganova", ("ivarganova", "@ilse")),
    Person("Tomasz Quellbrand", ("tquell",)),
    Person("Marisol Okonkwe", ("msol",)),
    Person("Devrim Halloway", ("dhalloway", "@devrim")),
    Person("Anouk Brezhnitz", ("anoukb",)),
)
EXTRA_TERMS = ("Project Bluefinch", "Zanzibar Holdings")


@dataclass(frozen=True)
class Planted:
    """One planted value: its kind, the text as written, and what must not remain anywhere."""

    kind: str
    sentence: str
    distinctive: tuple[str, ...]
    field: tuple[str, str] | None = None  # (field name, value) for secret-named JSON fields


def _random(rng: random.Random, alphabet: str, length: int) -> str:
    """A random string over `alphabet`."""
    return "".join(rng.choice(alphabet) for _ in range(length))


def _luhn_complete(rng: random.Random, prefix: str, length: int) -> str:
    """A random card number with the given prefix whose last digit satisfies Luhn."""
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    total = 0
    for position, char in enumerate(reversed(body)):
        digit = int(char)
        if position % 2 == 0:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return body + str((10 - total % 10) % 10)


def _b64url(data: bytes) -> str:
    """URL-safe base64 without padding, as JWT segments are written."""
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _email(rng: random.Random) -> Planted:
    local = f"{_random(rng, string.ascii_lowercase, 6)}.{_random(rng, string.ascii_lowercase, 7)}"
    value = f"{local}{rng.randint(10, 99)}@{rng.choice(['corp-mail.net', 'example.org', 'ops.io'])}"
    sentence = rng.choice(
        ["Escalated to {} after the second page.", "cc {} on the follow-up", "Owner: {}"]
    )
    return Planted("email", sentence.format(value), (value, local))


def _phone_international(rng: random.Random) -> Planted:
    country = rng.choice(["44", "49", "33", "61", "353", "81"])
    groups = [str(rng.randint(10, 99)), str(rng.randint(1000, 9999)), str(rng.randint(1000, 9999))]
    value = f"+{country} {' '.join(groups)}"
    sentence = rng.choice(["Called the on-call at {} at 03:12 UTC.", "bridge dial-in {}"])
    return Planted("phone", sentence.format(value), (value, "".join(groups)))


def _phone_us(rng: random.Random) -> Planted:
    area, exchange = rng.randint(201, 989), rng.randint(201, 989)
    line = rng.randint(1000, 9999)
    value = rng.choice(
        [
            f"({area}) {exchange}-{line}",
            f"{area}-{exchange}-{line}",
            f"{area}.{exchange}.{line}",
            f"+1 {area} {exchange} {line}",
            f"1-{area}-{exchange}-{line}",
        ]
    )
    sentence = rng.choice(["Vendor support line {} was busy.", "SMS sent to {}"])
    return Planted("phone", sentence.format(value), (value, f"{exchange}-{line}"))


def _ipv4(rng: random.Random) -> Planted:
    value = (
        f"{rng.randint(11, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    )
    sentence = rng.choice(
        ["Traffic from {} saturated the LB.", "ssh to {} timed out", "instance={}:9100 down"]
    )
    return Planted("ipv4", sentence.format(value), (value,))


def _ipv6(rng: random.Random) -> Planted:
    packed = bytes([0x20, 0x01, 0x0D, 0xB8]) + bytes(rng.randrange(256) for _ in range(12))
    value = str(ipaddress.IPv6Address(packed))
    sentence = rng.choice(["Upstream {} refused connections.", "peer [{}]:443 reset"])
    return Planted("ipv6", sentence.format(value), (value,))


def _credit_card(rng: random.Random) -> Planted:
    prefix, length = rng.choice([("4", 16), ("51", 16), ("55", 16), ("37", 15), ("6011", 16)])
    digits = _luhn_complete(rng, prefix, length)
    if length == 15:
        value = f"{digits[:4]} {digits[4:10]} {digits[10:]}"
    else:
        value = rng.choice([digits, " ".join(digits[i : i + 4] for i in range(0, 16, 4))])
        value = rng.choice([value, "-".join(digits[i : i + 4] for i in range(0, 16, 4))])
    sentence = "Customer card {} was charged twice during the retry storm."
    return Planted("credit_card", sentence.format(value), (value, digits))


def _aws(rng: random.Random) -> Planted:
    key_id = "AKIA" + _random(rng, string.ascii_uppercase + string.digits, 16)
    secret = _random(rng, B64, 40)
    sentence = f"leaked in CI log: AWS_ACCESS_KEY_ID={key_id} aws_secret_access_key={secret}"
    return Planted("aws_key", sentence, (key_id, secret, secret[8:32]))


def _gcp(rng: random.Random) -> Planted:
    value = rng.choice(
        ["AIza" + _random(rng, ALNUM + "_-", 35), "ya29." + _random(rng, ALNUM + "_-", 60)]
    )
    sentence = "the maps client used key {} from the old config"
    return Planted("gcp_key", sentence.format(value), (value, value[6:30]))


def _azure(rng: random.Random) -> Planted:
    if rng.random() < 0.5:
        key = _random(rng, B64, 86) + "=="
        value = f"DefaultEndpointsProtocol=https;AccountName=stlogs;AccountKey={key};"
        return Planted("azure_key", f"connection string {value} was in the wiki", (key, key[:30]))
    secret = _random(rng, ALNUM, 3) + "8Q~" + _random(rng, ALNUM + "_~.-", 34)
    return Planted("azure_key", f"app registration secret {secret} rotated", (secret, secret[6:30]))


def _github(rng: random.Random) -> Planted:
    value = rng.choice(
        ["ghp_" + _random(rng, ALNUM, 36), "github_pat_" + _random(rng, ALNUM + "_", 82)]
    )
    sentence = "Revoked {} after it showed up in the build output."
    return Planted("github_token", sentence.format(value), (value, value[12:36]))


def _slack(rng: random.Random) -> Planted:
    if rng.random() < 0.5:
        value = f"xoxb-{rng.randint(10**10, 10**11)}-{rng.randint(10**10, 10**11)}-"
        value += _random(rng, ALNUM, 24)
        return Planted("slack_token", f"bot token {value} posted by mistake", (value, value[-20:]))
    path = f"T{_random(rng, string.ascii_uppercase + string.digits, 8)}/"
    path += f"B{_random(rng, string.ascii_uppercase + string.digits, 8)}/{_random(rng, ALNUM, 24)}"
    sentence = f"webhook https://hooks.slack.com/services/{path} spammed #incidents"
    return Planted("slack_token", sentence, (path, path[-20:]))


def _jwt(rng: random.Random) -> Planted:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {
        "sub": _random(rng, string.digits, 9),
        "exp": rng.randint(1_700_000_000, 1_800_000_000),
    }
    payload = _b64url(json.dumps(claims).encode())
    signature = _b64url(rng.randbytes(32))
    value = f"{header}.{payload}.{signature}"
    return Planted("jwt", f"session cookie was {value} in the HAR file", (value, signature))


def _bearer(rng: random.Random) -> Planted:
    value = _random(rng, ALNUM + "-._~", 40)
    sentence = f'curl -H "Authorization: Bearer {value}" https://api.internal/v1/health'
    return Planted("bearer", sentence, (value, value[5:30]))


def _private_key(rng: random.Random) -> Planted:
    body = [_random(rng, B64, 64) for _ in range(rng.randint(4, 8))] + [
        _random(rng, B64, 20) + "=="
    ]
    label = rng.choice(["RSA PRIVATE KEY", "PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY"])
    separator = rng.choice(["\n", "\\n"])  # real newlines, or escaped ones pasted from JSON
    block = separator.join([f"-----BEGIN {label}-----", *body, f"-----END {label}-----"])
    return Planted("private_key", f"The deploy log printed:\n{block}\nand kept going.", tuple(body))


def _url_password(rng: random.Random) -> Planted:
    password = _random(rng, ALNUM + "!*_-~", rng.randint(12, 20))
    scheme = rng.choice(["postgres", "redis", "amqp", "https", "mongodb+srv"])
    url = f"{scheme}://svc_app:{password}@db-{rng.randint(1, 9)}.internal:5432/app"
    return Planted(
        "url_password", f"The pool was configured with {url} until rotation.", (password,)
    )


def _password(rng: random.Random) -> Planted:
    password = _random(rng, PASSWORD_CHARS, rng.randint(10, 18)) + str(rng.randint(0, 9))
    form = rng.choice(
        ["password={}", "DB_PASSWORD: '{}'", 'client_secret = "{}"', "token: {}", "api_key={}"]
    )
    field = (rng.choice(["password", "db_password", "apiKey", "client_secret"]), password)
    return Planted("password", "config had " + form.format(password), (password,), field)


def _person(rng: random.Random) -> Planted:
    person = rng.choice(ROSTER)
    first, last = person.name.split()
    handle = rng.choice(person.handles)
    writing = rng.choice(
        [
            f"{person.name} acknowledged the page",
            f"@{handle.lstrip('@')} took incident command",
            f"{first} restarted the consumer; {last.upper()} confirmed",
            f"{first.lower()}.{last.lower()} approved the rollback",
            f"{person.name.lower()} was paged twice",
        ]
    )
    return Planted("person", writing, (last.lower(), handle.lstrip("@").lower()))


def _term(rng: random.Random) -> Planted:
    term = rng.choice(EXTRA_TERMS)
    return Planted("term", f"Impact limited to {term} tenants.", (term.split()[-1].lower(),))


GENERATORS: tuple[Callable[[random.Random], Planted], ...] = (
    _email,
    _phone_international,
    _phone_us,
    _ipv4,
    _ipv6,
    _credit_card,
    _aws,
    _gcp,
    _azure,
    _github,
    _slack,
    _jwt,
    _bearer,
    _private_key,
    _url_password,
    _password,
    _person,
    _term,
)
