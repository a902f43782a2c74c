"""Tokens are keyed and consistent; the key file is created safely; bad policies are refused."""

from __future__ import annotations

import hashlib
import hmac
import os
import stat
from pathlib import Path

import pytest

from lessonloop.errors import ConfigurationError, InputError
from lessonloop.redact import (
    RECOGNISER_NAMES,
    Person,
    RedactionPolicy,
    Redactor,
    format_token,
    load_or_create_key,
)

KEY = bytes(range(32))


def test_token_is_kind_and_first_six_hex_of_hmac_sha256() -> None:
    expected = hmac.new(KEY, b"ops@example.org", hashlib.sha256).hexdigest()[:6]
    assert format_token("email", "ops@example.org", KEY) == f"<email:{expected}>"
    result = Redactor(RedactionPolicy(key=KEY)).redact_text("mail Ops@Example.org")
    assert result.text == f"mail <email:{expected}>"


@pytest.mark.parametrize(
    "spellings",
    [
        ["a.b@corp.io", "A.B@CORP.IO"],
        ["(415) 555-0132", "415-555-0132", "+1 415 555 0132", "1-415-555-0132"],
        ["+44 20 7946 0958", "+44 (0)20 7946 0958", "+44-20-7946-0958"],
        ["2001:DB8:0:0::1:7", "2001:db8::1:7"],
        ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111"],
    ],
)
def test_spellings_of_one_value_share_a_token(spellings: list[str]) -> None:
    redactor = Redactor(RedactionPolicy(key=KEY))
    tokens = {redactor.redact_text(f"x {value} y").text for value in spellings}
    assert len(tokens) == 1
    assert "<" in next(iter(tokens))


def test_person_aliases_share_the_person_token() -> None:
    person = Person("Alice Smith", ("asmith", "@ally"))
    redactor = Redactor(RedactionPolicy(key=KEY, people=(person,)))
    spellings = [
        "Alice Smith",
        "alice  smith",
        "@asmith",
        "ASMITH",
        "@ally",
        "alice.smith",
        "Alice",
    ]
    assert len({redactor.redact_text(value).text for value in spellings}) == 1


def test_different_keys_give_different_tokens_same_key_same_tokens() -> None:
    text = "ops@example.org 10.2.3.4 password=hunter22"
    first = Redactor(RedactionPolicy(key=KEY)).redact_text(text).text
    again = Redactor(RedactionPolicy(key=KEY)).redact_text(text).text
    other = Redactor(RedactionPolicy(key=b"\xff" * 32)).redact_text(text).text
    assert first == again
    assert first != other and first.count("<") == other.count("<") == 3


def test_already_tokenised_text_is_left_as_is() -> None:
    redactor = Redactor(RedactionPolicy(key=KEY))
    once = redactor.redact_text("password=hunter22 for ops@example.org").text
    assert redactor.redact_text(once).text == once
    foreign = "<email:abcdef> from another key"
    assert redactor.redact_text(foreign).text == foreign


def test_token_length_is_configurable() -> None:
    result = Redactor(RedactionPolicy(key=KEY, token_hex_length=12)).redact_text("a@b.io")
    assert len(result.text) == len("<email:>") + 12


def test_key_file_is_created_with_0600_and_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "redaction.key"
    key = load_or_create_key(path)
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create_key(path) == key
    assert load_or_create_key(tmp_path / "other.key") != key


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "redaction.key"
    path.write_bytes(os.urandom(32))
    path.chmod(0o644)
    with pytest.raises(ConfigurationError, match="chmod 600"):
        load_or_create_key(path)


def test_key_file_of_wrong_length_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "redaction.key"
    path.write_bytes(b"short")
    path.chmod(0o600)
    with pytest.raises(ConfigurationError, match="5 bytes"):
        load_or_create_key(path)


@pytest.mark.parametrize(
    "arguments",
    [
        {"key": b"short"},
        {"key": KEY, "enabled": frozenset({"email", "telepathy"})},
        {"key": KEY, "allow_patterns": ("([unclosed",)},
        {"key": KEY, "token_hex_length": 2},
        {"key": KEY, "detect_secrets_plugins": ("NoSuchDetector",)},
    ],
)
def test_unworkable_policies_are_refused(arguments: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        Redactor(RedactionPolicy(**arguments))  # type: ignore[arg-type]


def test_policy_helpers_and_repr_hide_the_key() -> None:
    policy = RedactionPolicy(key=KEY)
    assert policy.without("email").enabled == frozenset(RECOGNISER_NAMES) - {"email"}
    roster = (Person("Bo Li"),)
    assert policy.with_people(roster).people == roster
    assert repr(KEY) not in repr(policy)


def test_redact_text_refuses_non_strings() -> None:
    with pytest.raises(InputError):
        Redactor(RedactionPolicy(key=KEY)).redact_text(b"bytes")  # type: ignore[arg-type]


def test_key_file_that_cannot_be_created_is_a_configuration_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("x")
    with pytest.raises(ConfigurationError, match="cannot create"):
        load_or_create_key(blocker / "redaction.key")


def test_policy_accepts_lists_from_configuration_files() -> None:
    policy = RedactionPolicy(
        key=KEY,
        enabled=["email", "people"],  # type: ignore[arg-type]
        people=[Person("Bo Li", ["boli"])],  # type: ignore[arg-type, list-item]
        extra_terms=["Nightjar"],  # type: ignore[arg-type]
    )
    assert policy.enabled == frozenset({"email", "people"})
    assert policy.people == (Person("Bo Li", ("boli",)),)
    assert hash(policy.people)
    result = Redactor(policy).redact_text("boli mailed a@b.io from 10.1.2.3 about Nightjar")
    assert result.counts.as_dict() == {"email": 1, "person": 1}


def test_policy_refuses_people_that_are_not_person_entries() -> None:
    with pytest.raises(ConfigurationError, match="Person"):
        RedactionPolicy(key=KEY, people=("Alice Smith",))  # type: ignore[arg-type]
