"""Personal data recognisers: email, phone numbers, IPv4 and IPv6 addresses, payment cards."""

from __future__ import annotations

import ipaddress
import re

from lessonloop.redact.spans import PatternRecogniser

__all__ = ["PII_RECOGNISERS", "luhn_valid"]

_PII = 50


def _lower(value: str) -> str:
    """Emails compare case-insensitively in practice."""
    return value.lower()


def _digits(value: str) -> str:
    """Keep only the digits (cards, phone numbers written with different separators)."""
    return "".join(ch for ch in value if ch.isdigit())


def _phone_digits_count_ok(value: str) -> bool:
    """International numbers carry 8 to 15 digits (E.164)."""
    return 8 <= len(_digits(value.replace("(0)", ""))) <= 15


def _normalise_international_phone(value: str) -> str:
    """`+44 (0)20 7946 0958` and `+44 20 7946 0958` become `+442079460958`."""
    return "+" + _digits(value.replace("(0)", ""))


def _normalise_us_phone(value: str) -> str:
    """`(415) 555-0132`, `1-415-555-0132` and `+1 415 555 0132` become `+14155550132`."""
    digits = _digits(value)
    return "+" + (digits if len(digits) == 11 else "1" + digits)


def _valid_ipv4(value: str) -> bool:
    """Four decimal octets 0-255 without leading zeros (which read as versions or octal)."""
    parts = value.split(".")
    return all(len(part) == 1 or (part[0] != "0" and int(part) <= 255) for part in parts)


def _valid_ipv6(value: str) -> bool:
    """A parseable IPv6 address with at least three non-empty groups (not `a::b` or `::1`)."""
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return sum(1 for group in value.split(":") if group) >= 3


def _normalise_ip(value: str) -> str:
    """Canonical compressed form, so `2001:DB8:0::1` and `2001:db8::1` share a token."""
    return str(ipaddress.ip_address(value))


def luhn_valid(digits: str) -> bool:
    """Luhn checksum used by payment card numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char)
        if position % 2 == 1:
            digit = digit * 2 - 9 if digit > 4 else digit * 2
        total += digit
    return total % 10 == 0


# Issuer prefixes of the major networks; a Luhn-valid 16-digit id with another prefix is not a card.
_CARD_PREFIX = re.compile(
    r"4|5[1-5]|2(?:22[1-9]|2[3-9]\d|[3-6]\d\d|7[01]\d|720)|3[47]|30[0-5]|3[689]|35|6011|64[4-9]|65|62"
)


def _valid_card(value: str) -> bool:
    """13-19 digits, a known issuer prefix and a correct Luhn check digit."""
    digits = _digits(value)
    return 13 <= len(digits) <= 19 and bool(_CARD_PREFIX.match(digits)) and luhn_valid(digits)


PII_RECOGNISERS: tuple[PatternRecogniser, ...] = (
    PatternRecogniser(
        "email",
        "email",
        _PII + 5,
        re.compile(
            r"(?<![\w.+%-])[A-Za-z0-9][A-Za-z0-9._%+-]{0,63}@"
            r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,24}(?![\w-])"
        ),
        normalise=_lower,
        hints=("@",),
    ),
    PatternRecogniser(
        "credit_card",
        "credit_card",
        _PII + 4,
        re.compile(
            r"\d(?<![\w.,:/-]\d)(?:\d{3}(?P<sep>[ -])\d{4}(?P=sep)\d{4}(?P=sep)\d{1,7}"
            r"|\d{3}[ -]\d{6}[ -]\d{4,5}|\d{12,18})(?![\w-]|[.,:/]\d)"
        ),
        accept=_valid_card,
        normalise=_digits,
    ),
    PatternRecogniser(
        "phone",
        "phone",
        _PII + 3,
        re.compile(
            r"\+(?<![\w+]\+)[1-9]\d{0,2}(?:[ .-]?(?:\(\d{1,4}\)|\d{1,5})){2,6}(?![\w]|[.:/-]\d)"
        ),
        accept=_phone_digits_count_ok,
        normalise=_normalise_international_phone,
    ),
    PatternRecogniser(  # North American: area code and exchange start with 2-9; separators required
        "phone",
        "phone",
        _PII + 2,
        re.compile(
            r"(?<![\w+.:/-])(?:1[ .-])?(?:\([2-9]\d{2}\)[ ]?|[2-9]\d{2}[ .-])[2-9]\d{2}[ .-]\d{4}"
            r"(?![\w]|[.:/-]\d)"
        ),
        normalise=_normalise_us_phone,
    ),
    PatternRecogniser(
        "ipv4",
        "ipv4",
        _PII + 1,
        re.compile(  # not glued to a word (kernel-2.6.26.6) nor named a version (Version 10.4.3.2)
            r"\d(?<![\w.]\d)(?<![A-Za-z]-\d)(?<![Vv]ersion \d)(?<![Rr]elease \d)(?<![Bb]uild \d)"
            r"\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?![\w]|\.\d)"
        ),
        accept=_valid_ipv4,
        normalise=_normalise_ip,
        hints=(".",),
    ),
    PatternRecogniser(
        "ipv6",
        "ipv6",
        _PII + 1,
        re.compile(
            r"(?<![\w:.])(?=[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:)"
            r"(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:]|\.\d)"
        ),
        accept=_valid_ipv6,
        normalise=_normalise_ip,
        hints=("::", ":"),
    ),
)
