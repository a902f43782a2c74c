"""redact_document walks nested JSON-like data; counts merge for import summaries."""

from __future__ import annotations

import pytest

from lessonloop.errors import InputError
from lessonloop.redact import Person, RedactionCounts, RedactionPolicy, Redactor

KEY = b"d" * 32


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor(RedactionPolicy(key=KEY, people=(Person("Alice Smith", ("asmith",)),)))


def test_strings_at_any_depth_are_redacted_and_other_scalars_kept(redactor: Redactor) -> None:
    document = {
        "incident": {
            "title": "Alice Smith paged ops@corp.io",
            "number": 42,
            "ratio": 0.5,
            "acknowledged": True,
            "closed": None,
            "log": [{"text": "from 10.1.2.3"}, ["nested", "call +44 20 7946 0958"]],
        }
    }
    result = redactor.redact_document(document)
    incident = result.document["incident"]  # type: ignore[index]
    assert incident["title"].startswith("<person:") and "<email:" in incident["title"]
    assert (incident["number"], incident["ratio"], incident["acknowledged"]) == (42, 0.5, True)
    assert incident["closed"] is None
    assert incident["log"][0]["text"].startswith("from <ipv4:")
    assert incident["log"][1][1].startswith("call <phone:")
    assert result.counts.by_kind == {"email": 1, "ipv4": 1, "person": 1, "phone": 1}
    assert document["incident"]["title"] == "Alice Smith paged ops@corp.io"  # input untouched


def test_keys_are_redacted_and_clashes_get_a_suffix(redactor: Redactor) -> None:
    result = redactor.redact_document({"ops@corp.io": 1, "OPS@corp.io": 2, "status": "ok"})
    keys = list(result.document)  # type: ignore[call-overload]
    assert keys[0].startswith("<email:") and keys[1] == f"{keys[0]}~2" and keys[2] == "status"
    assert result.document[keys[1]] == 2  # type: ignore[index]


def test_keys_kept_when_policy_says_so() -> None:
    policy = RedactionPolicy(key=KEY, redact_keys=False)
    document = Redactor(policy).redact_document({"ops@corp.io": "ops@corp.io"}).document
    assert list(document) == ["ops@corp.io"]  # type: ignore[call-overload]


def test_values_of_credential_named_fields_are_tokenised_whole(redactor: Redactor) -> None:
    document = {
        "password": "plain words with spaces",
        "db_password": "hunter22",
        "apiKey": "abc",
        "Authorization": "Bearer 0123456789abcdef0123",
        "token_type": "bearer",
        "password_required": True,
        "secret": "",
        "client_secret": "${CLIENT_SECRET}",
        "session_id": 12345678,
    }
    result = redactor.redact_document(document).document
    for field in ("password", "db_password", "apiKey", "Authorization", "session_id"):
        assert str(result[field]).startswith("<password:"), field  # type: ignore[index]
    assert result["token_type"] == "bearer"  # type: ignore[index]
    assert result["password_required"] is True  # type: ignore[index]
    assert result["secret"] == ""  # type: ignore[index]
    assert result["client_secret"] == "${CLIENT_SECRET}"  # type: ignore[index]


def test_secret_field_and_assignment_share_the_token(redactor: Redactor) -> None:
    from_field = redactor.redact_document({"password": "hunter22"}).document["password"]  # type: ignore[index]
    from_text = redactor.redact_text("password=hunter22").text
    assert from_text == f"password={from_field}"


def test_tuples_become_lists_and_unsupported_types_name_the_field(redactor: Redactor) -> None:
    assert redactor.redact_document(("a", ("b",))).document == ["a", ["b"]]
    with pytest.raises(InputError, match=r"\$\.alerts\[1\]\.raw"):
        redactor.redact_document({"alerts": [{}, {"raw": b"bytes"}]})
    with pytest.raises(InputError):
        redactor.redact_document({"when": object()})


def test_documents_nested_too_deep_are_refused(redactor: Redactor) -> None:
    deep: object = "leaf"
    for _ in range(300):
        deep = [deep]
    with pytest.raises(InputError, match="deeper"):
        redactor.redact_document(deep)


def test_counts_merge_across_calls(redactor: Redactor) -> None:
    first = redactor.redact_text("a@b.io and c@d.io").counts
    second = redactor.redact_document({"x": "10.1.2.3", "y": ["e@f.io"]}).counts
    assert (first + second).by_kind == {"email": 3, "ipv4": 1}
    combined = RedactionCounts.combine([first, second, RedactionCounts()])
    assert combined.as_dict() == {"email": 3, "ipv4": 1}
    assert combined.total == 4
    assert RedactionCounts().total == 0


def test_counts_never_carry_values(redactor: Redactor) -> None:
    result = redactor.redact_document({"password": "hunter22", "note": "Alice Smith, a@b.io"})
    rendered = repr(result.counts) + repr(result.counts.as_dict())
    for value in ("hunter22", "Alice", "a@b.io"):
        assert value not in rendered
