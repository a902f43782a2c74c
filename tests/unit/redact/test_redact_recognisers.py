"""Each recogniser finds its values and leaves look-alikes (timestamps, versions, words) alone."""

from __future__ import annotations

import pytest

from lessonloop.redact import Person, RedactionPolicy, Redactor

KEY = b"r" * 32


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    people = (Person("Alice Smith", ("asmith", "@alice")), Person("Will Mark"))
    return Redactor(RedactionPolicy(key=KEY, people=people, extra_terms=("Project Nightjar",)))


def kinds(redactor: Redactor, text: str) -> list[tuple[str, str]]:
    """(kind, matched text) of every detection."""
    return [(d.kind, text[d.start : d.end]) for d in redactor.scan(text)]


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        (
            "mail Bob.Jones+oncall@corp.example.co.uk now",
            "email",
            "Bob.Jones+oncall@corp.example.co.uk",
        ),
        ("call +44 20 7946 0958 today", "phone", "+44 20 7946 0958"),
        ("call +49 (0)30 1234 5678", "phone", "+49 (0)30 1234 5678"),
        ("call (415) 555-0132.", "phone", "(415) 555-0132"),
        ("call 415-555-0132 or", "phone", "415-555-0132"),
        ("call 1-415-555-0132", "phone", "1-415-555-0132"),
        ("call 415.555.0132", "phone", "415.555.0132"),
        ("host 192.168.10.254 down", "ipv4", "192.168.10.254"),
        ("target 10.0.0.7:9100", "ipv4", "10.0.0.7"),
        ("peer 2001:db8:85a3::8a2e:370:7334 reset", "ipv6", "2001:db8:85a3::8a2e:370:7334"),
        ("peer [fe80:0:0:0:202:b3ff:fe1e:8329]:443", "ipv6", "fe80:0:0:0:202:b3ff:fe1e:8329"),
        ("card 4111 1111 1111 1111 declined", "credit_card", "4111 1111 1111 1111"),
        ("card 5555-5555-5555-4444", "credit_card", "5555-5555-5555-4444"),
        ("amex 3782 822463 10005", "credit_card", "3782 822463 10005"),
        ("card 4012888888881881.", "credit_card", "4012888888881881"),
        ("key AKIAQ3EGRZ7UMXLYB2HC leaked", "aws_key", "AKIAQ3EGRZ7UMXLYB2HC"),
        (
            "aws_secret_access_key = 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",
            "aws_key",
            "Fz3k9QpLx0Wm7Rt2Yb8Nc4Hv6Js1Ud5Ge0Ka3Pi9",
        ),
        (
            "k=AIzaSyB3x9Kq2LmN8pQ7rS6tU5vW4xY3zA2bC1d",
            "gcp_key",
            "AIzaSyB3x9Kq2LmN8pQ7rS6tU5vW4xY3zA2bC1d",
        ),
        (
            "ghp_R8sT2uV4wX6yZ8aB0cD2eF4gH6iJ8kL0mN2o in log",
            "github_token",
            "ghp_R8sT2uV4wX6yZ8aB0cD2eF4gH6iJ8kL0mN2o",
        ),
        (
            "xoxb-2468013579-1357924680-Zq8Wx7Vc6Bn5Mm4Ll3Kk2Jj1",
            "slack_token",
            "xoxb-2468013579-1357924680-Zq8Wx7Vc6Bn5Mm4Ll3Kk2Jj1",
        ),
        ("Authorization: Bearer 9f8e7d6c5b4a39281706f5e4", "bearer", "9f8e7d6c5b4a39281706f5e4"),
        ("Authorization: Basic c3ZjOmh1bnRlcjJodW50ZXIy", "bearer", "c3ZjOmh1bnRlcjJodW50ZXIy"),
        ("postgres://app:Xy7!kq_Pz@db:5432/x", "url_password", "Xy7!kq_Pz"),
        ("password=hunter2", "password", "hunter2"),
        ("DB_PASSWORD: 'correct horse battery'", "password", "correct horse battery"),
        ('{"client_secret": "s3cr3t-value"}', "password", "s3cr3t-value"),
        ("token: Summer2024!", "password", "Summer2024!"),
        ("https://x.io/cb?code=abc123&access_token=ZXY987wvu&x=1", "password", "ZXY987wvu"),
        ("curl -u admin:Sup3rS3cret! https://api", "password", "Sup3rS3cret!"),
        ("curl --user=bob:pw123 x", "password", "pw123"),
        ("mysql -uroot -pHunter2pass db", "password", "Hunter2pass"),
        ("Alice Smith paged", "person", "Alice Smith"),
        ("ALICE SMITH paged", "person", "ALICE SMITH"),
        ("ask @asmith", "person", "@asmith"),
        ("ask @alice.", "person", "@alice"),
        ("approved by alice.smith today", "person", "alice.smith"),
        ("then Alice restarted it", "person", "Alice"),
        ("Will Mark rolled back", "person", "Will Mark"),
        ("customers of project nightjar saw errors", "term", "project nightjar"),
    ],
)
def test_recognises(redactor: Redactor, text: str, kind: str, value: str) -> None:
    assert (kind, value) in kinds(redactor, text)


@pytest.mark.parametrize(
    "text",
    [
        "started 2026-03-02T10:12:00Z, detected 2026-03-02 10:34:00 UTC",
        "upgraded to v2.14.3 then 10.0.19041.1234 and kernel-2.6.26.6-49.fc8",
        "p99 rose from 240 ms to 1800 ms over 42 minutes (2520 s)",
        "listening on port 8443 and :9090, pid 31337",
        "processed 1234567 requests, 4096 errors, ratio 0.0033",
        "ticket INC-2026-0042 and order 20260302103400",
        "between 10:30:00 and 11:05:30",
        "mac 00:1a:2b:3c:4d:5e and std::vector::size",
        "address 256.1.1.1 is not valid, neither is 01.02.03.04",
        "card 4111 1111 1111 1112 fails Luhn",
        "id 1700000000000123 is not a card",
        "the token: expired and the password: reset flow",
        "password=${DB_PASSWORD} and token=*** and secret=<redacted>",
        "we will review it and mark the alert as noise",
        "docker run -p8080:80 -u 1000:1000 img; sudo -u app:app id",
        "Version 10.4.3.2 of the agent, release 2.0.1.5, build 3.1.4.1",
        "in June the cert expired",
        "alicexyz and malice smithy are not people",
        "a bearer token was leaked",
        "commit 3f9c2e1a7b and trace 4bf92f3577b34da6a3ce929d0e0e4736",
    ],
)
def test_leaves_look_alikes_alone(redactor: Redactor, text: str) -> None:
    assert kinds(redactor, text) == []


def test_private_key_block_is_one_token_raw_or_escaped(redactor: Redactor) -> None:
    body = [
        "MIIEowIBAAKCAQEAx5Jf3kq9LmN8pQ7rS6tU5vW4xY3zA2bC1dE0fG9hI8jK7lM6",
        "nO5pQ4rS3tU2vW1xY0==",
    ]
    raw = "\n".join(["-----BEGIN RSA PRIVATE KEY-----", *body, "-----END RSA PRIVATE KEY-----"])
    escaped = raw.replace("\n", "\\n")
    raw_result = redactor.redact_text(f"log:\n{raw}\ndone")
    escaped_result = redactor.redact_text(f'{{"key": "{escaped}"}}')
    assert raw_result.counts.by_kind == {"private_key": 1}
    token = raw_result.text.split("\n")[1]
    assert token.startswith("<private_key:")
    assert token in escaped_result.text
    assert all(line not in escaped_result.text for line in body)


def test_truncated_private_key_block_is_redacted(redactor: Redactor) -> None:
    text = (
        "-----BEGIN OPENSSH PRIVATE KEY-----\n"
        "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\nAAAAMwAAAAtz"
    )
    result = redactor.redact_text(text)
    assert "b3BlbnNzaC1" not in result.text and "AAAAMwAAAAtz" not in result.text


def test_jwt_wins_over_bearer_and_password_inside_it(redactor: Redactor) -> None:
    jwt = (
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0"
        ".dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    )
    assert kinds(redactor, f"Authorization: Bearer {jwt}") == [("jwt", jwt)]
    assert kinds(redactor, f"token={jwt}") == [("jwt", jwt)]


def test_detect_secrets_plugins_find_formats_without_an_own_recogniser() -> None:
    stripe = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
    policy = RedactionPolicy(key=KEY)
    assert ("secret", stripe) in kinds(Redactor(policy), f"charge failed with {stripe}")
    assert kinds(Redactor(policy.without("detect_secrets")), f"charge failed with {stripe}") == []


def test_allow_patterns_keep_values_and_block_what_overlaps_them() -> None:
    policy = RedactionPolicy(
        key=KEY,
        people=(Person("Alice Smith", ("alice",)),),
        allow_patterns=(r"[\w.+-]+@example\.com", r"10\.0\.0\.\d+"),
    )
    text = "alice@example.com saw 10.0.0.7 and 10.0.1.7 and bob@corp.io"
    result = Redactor(policy).redact_text(text)
    assert "alice@example.com" in result.text and "10.0.0.7" in result.text
    assert result.counts.by_kind == {"email": 1, "ipv4": 1}


def test_disabled_recognisers_find_nothing() -> None:
    policy = RedactionPolicy(key=KEY).without("email", "ipv4")
    assert Redactor(policy).redact_text("a@b.io from 10.1.2.3").counts.total == 0


def test_overlap_resolution_does_not_depend_on_recogniser_order(redactor: Redactor) -> None:
    text = (
        "curl https://alice:Zq9!xP2w@10.1.2.3/api -H 'Authorization: Bearer 0a1b2c3d4e5f6a7b8c9d'"
    )
    first = redactor.scan(text)
    assert first == redactor.scan(text)
    spans = [(d.start, d.end) for d in first]
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in zip(spans, spans[1:], strict=False))
    assert {d.kind for d in first} >= {"url_password", "ipv4", "bearer"}


def test_name_part_shared_by_two_people_gets_its_own_token() -> None:
    people = (Person("Alice Smith"), Person("Alice Jones"))
    redactor = Redactor(RedactionPolicy(key=KEY, people=people))
    alone = redactor.redact_text("Alice").text
    assert alone not in {
        redactor.redact_text("Alice Smith").text,
        redactor.redact_text("Alice Jones").text,
    }
    assert redactor.redact_text("Smith").text == redactor.redact_text("alice smith").text


def test_detect_secrets_spans_map_back_to_the_right_lines() -> None:
    first, second = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc", "sk_live_" + "Zq8Wx7Vc6Bn5Mm4Ll3Kk2Jj1"
    text = "\n".join(
        [
            "intro line",
            f"charge failed with {first} at 10:12",
            "a long run aaaaaaaaaaaaaaaaaaaaaaaaaaaa without secrets",
            "",
            f"retry used {second} and again {first}",
        ]
    )
    redactor = Redactor(RedactionPolicy(key=KEY).without("assignment"))
    found = sorted((d.start, d.end) for d in redactor.scan(text) if d.kind == "secret")
    expected = sorted(
        (index, index + len(value))
        for value in (first, second)
        for index in range(len(text))
        if text.startswith(value, index)
    )
    assert found == expected and len(found) == 3
