"""Redaction on clean text: false positives and speed over the public postmortems.

The 171 public postmortems hold no credentials and no personal data of responders, so every
replacement the default policy makes there is counted as a false positive (an upper bound: a
public support address or a published IP is a correct detection, but still an unwanted change).
Every detection is written to the JSON result with its matched text (public data) so the count
can be re-audited by hand.

Speed is reported as documents per second and as a ratio to a floor measured in the same run:
one precompiled email regex scanned over the same texts.

    .venv/bin/python benchmarks/redaction_fp.py --out /tmp/redaction_fp.json
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from pathlib import Path

from lessonloop.redact import Person, RedactionPolicy, Redactor
from lessonloop.redact.secrets_scan import is_plausible_secret_line

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared/datasets/postmortems/data"
BENCHMARK_KEY = b"lessonloop-redaction-benchmark!!"
# Names that are also ordinary English words, to stress roster matching on clean text.
STRESS_ROSTER = (
    Person("Will Mark", ("wmark",)),
    Person("Grace Hill", ("ghill",)),
    Person("Rose Park", ("rosep",)),
    Person("Bill Stone", ("bstone",)),
    Person("June Young", ("jyoung",)),
)


def load_corpus(corpus: Path) -> dict[str, str]:
    """Every Markdown file of the corpus by file name (front matter included: importers see it)."""
    files = sorted(corpus.glob("*.md"))
    if not files:
        sys.exit(f"no *.md files in {corpus}")
    return {path.name: path.read_text(encoding="utf-8") for path in files}


def detections(redactor: Redactor, texts: dict[str, str]) -> list[dict[str, object]]:
    """Every span the redactor would replace, with its file, kind and matched text."""
    found: list[dict[str, object]] = []
    for name, text in texts.items():
        for detection in redactor.scan(text):
            found.append(
                {
                    "file": name,
                    "kind": detection.kind,
                    "start": detection.start,
                    "end": detection.end,
                    "text": text[detection.start : detection.end],
                }
            )
    return found


def summarise(found: list[dict[str, object]], texts: dict[str, str]) -> dict[str, object]:
    """Counts by kind, documents touched and rate per 100,000 characters."""
    characters = sum(len(text) for text in texts.values())
    return {
        "detections": len(found),
        "by_kind": dict(sorted(Counter(str(item["kind"]) for item in found).items())),
        "documents_with_detection": len({item["file"] for item in found}),
        "documents": len(texts),
        "per_100k_characters": round(len(found) * 100_000 / characters, 3),
    }


def best_seconds(function: object, repeat: int) -> float:
    """Best wall time of `repeat` runs (the least disturbed one)."""
    timings = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()  # type: ignore[operator]
        timings.append(time.perf_counter() - started)
    return min(timings)


def speed(texts: dict[str, str], repeat: int) -> dict[str, float]:
    """Documents and JSON payloads per second, with and without detect-secrets, and the floor."""
    documents = list(texts.values())
    default = Redactor(RedactionPolicy(key=BENCHMARK_KEY, people=STRESS_ROSTER))
    no_detect_secrets = Redactor(
        RedactionPolicy(key=BENCHMARK_KEY, people=STRESS_ROSTER).without("detect_secrets")
    )
    email = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
    full = best_seconds(lambda: [default.redact_text(text) for text in documents], repeat)
    partial = best_seconds(
        lambda: [no_detect_secrets.redact_text(text) for text in documents], repeat
    )
    floor = best_seconds(lambda: [list(email.finditer(text)) for text in documents], repeat)
    lines = [line for text in documents for line in text.splitlines()]
    payloads = [typical_payload(index) for index in range(1000)]
    policy = RedactionPolicy(key=BENCHMARK_KEY, people=STRESS_ROSTER)

    def redact_payloads() -> None:
        """A fresh Redactor, so its cache of short strings starts empty as in a real import."""
        redactor = Redactor(policy)
        for payload in payloads:
            redactor.redact_document(payload)

    json_seconds = best_seconds(redact_payloads, repeat)
    return {
        "json_payloads_per_second": round(len(payloads) / json_seconds, 1),
        "documents_per_second": round(len(documents) / full, 1),
        "documents_per_second_without_detect_secrets": round(len(documents) / partial, 1),
        "ms_per_document": round(1000 * full / len(documents), 3),
        "ratio_to_single_regex_floor": round(full / floor, 1),
        "lines": len(lines),
        "lines_passed_to_detect_secrets": sum(
            1 for line in lines if is_plausible_secret_line(line)
        ),
    }


def typical_payload(index: int) -> dict[str, object]:
    """An alert-shaped JSON payload: repeated schema keys and statuses, varying free text."""
    return {
        "id": f"Q{index:07d}ZX",
        "status": "resolved",
        "urgency": "high",
        "created_at": "2026-03-02T10:34:00Z",
        "service": {"id": "PSVC01", "summary": "checkout-api", "type": "service_reference"},
        "labels": {"alertname": "HighErrorRate", "severity": "page", "job": "checkout"},
        "annotations": {
            "summary": f"Error ratio above {index % 7 + 2}% for {index % 50 + 5} minutes",
            "description": f"{index * 31 % 997} of {index * 53 % 9973 + 1000} requests failed "
            f"on pod checkout-{index:05d} after config push v2.{index % 20}.{index % 9}",
        },
        "fingerprint": f"{index * 7919:016x}",
        "notes": [{"note": f"Rolled back change CHG-{index:06d}", "createdAt": 1709374320123}],
    }


def pathological_seconds_per_100k() -> dict[str, float]:
    """Seconds per 100,000 characters on inputs built to trigger regex backtracking."""
    redactor = Redactor(RedactionPolicy(key=BENCHMARK_KEY, people=STRESS_ROSTER))
    inputs = {
        "unterminated_key_headers": "-----BEGIN RSA PRIVATE KEY-----\n" * 3000,
        "plus_and_digit_groups": "+12 345 678 901 234 567 8 " * 4000,
        "email_like_runs": "a@" * 50000,
        "assignment_without_end": "password=" + "x" * 100000,
        "hex_and_colons": "ab:" * 33000,
        "repeated_names": "Will Mark " * 10000,
    }
    timings = {}
    for name, text in inputs.items():
        seconds = best_seconds(lambda text=text: redactor.redact_text(text), 1)
        timings[name] = round(seconds * 100_000 / len(text), 3)
    return timings


def main() -> None:
    """Run the benchmark, print a short table and write the JSON result."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    texts = load_corpus(args.corpus)
    default_found = detections(Redactor(RedactionPolicy(key=BENCHMARK_KEY)), texts)
    stress_found = detections(
        Redactor(RedactionPolicy(key=BENCHMARK_KEY, people=STRESS_ROSTER)), texts
    )
    result = {
        "corpus": str(args.corpus),
        "default_policy": summarise(default_found, texts),
        "stress_roster_policy": summarise(stress_found, texts),
        "speed": speed(texts, args.repeat),
        "pathological_seconds_per_100k_characters": pathological_seconds_per_100k(),
        "default_detections": default_found,
        "stress_roster_detections": stress_found,
    }
    for label in ("default_policy", "stress_roster_policy"):
        summary = result[label]
        print(
            f"{label:22} detections {summary['detections']:4}  "  # type: ignore[index]
            f"docs touched {summary['documents_with_detection']}/{summary['documents']}  "  # type: ignore[index]
            f"per 100k chars {summary['per_100k_characters']}  {summary['by_kind']}"  # type: ignore[index]
        )
    print("speed", json.dumps(result["speed"]))
    print(
        "pathological s/100k chars", json.dumps(result["pathological_seconds_per_100k_characters"])
    )
    if args.out:
        args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
