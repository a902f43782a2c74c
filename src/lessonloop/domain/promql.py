"""PromQL series selectors: which Prometheus series a stored Lessonloop series is.

A selector is kept as a label map with the metric name under ``__name__`` (as Prometheus
itself returns it in a query_range result); :func:`render_selector` writes it back as
``metric{label="value",...}`` with every name checked and every value escaped, so an exported
rule is always valid PromQL.

Example::

    labels = parse_selector('checkout_request_latency_p99_ms{job="checkout"}')
    render_selector(labels)  # 'checkout_request_latency_p99_ms{job="checkout"}'
"""

from __future__ import annotations

import re
from collections.abc import Mapping

__all__ = ["METRIC_NAME", "LABEL_NAME", "parse_selector", "render_selector", "quote"]

METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
_MATCHER = re.compile(r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"((?:[^"\\\n]|\\.)*)"\s*(,|$)')
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n", "t": "\t", "r": "\r"}
_SHAPE = 'a metric name with optional label="value" matchers, e.g. name{job="api"}'


def _unescape(text: str) -> str:
    def one(match: re.Match[str]) -> str:
        char = match.group(1)
        if char not in _ESCAPES:
            raise ValueError(f"unknown escape \\{char} in label value {text!r}")
        return _ESCAPES[char]

    return re.sub(r"\\(.)", one, text)


def parse_selector(text: str) -> dict[str, str]:
    """``metric`` or ``metric{label="value", ...}`` -> ``{"__name__": metric, label: value}``.

    Only equality matchers: a stored series is one Prometheus series. ValueError says why."""
    text = text.strip()
    name, brace, rest = text.partition("{")
    name = name.strip()
    if not METRIC_NAME.fullmatch(name):
        raise ValueError(f"{name or text!r} is not a Prometheus metric name; expected {_SHAPE}")
    labels = {"__name__": name}
    if not brace:
        return labels
    if not rest.rstrip().endswith("}"):
        raise ValueError(f"the matchers of {text!r} must end with '}}'")
    body = rest.rstrip()[:-1]
    pos = 0
    while body[pos:].strip():
        match = _MATCHER.match(body, pos)
        if match is None:
            raise ValueError(
                f"malformed matcher at {body[pos:].strip()!r} in {text!r}; expected {_SHAPE}"
            )
        label, value = match.group(1), _unescape(match.group(2))
        if label in labels:
            raise ValueError(f"label {label!r} is matched twice in {text!r}")
        labels[label] = value
        pos = match.end()
    return labels


def quote(value: str) -> str:
    """A PromQL double-quoted string."""
    escaped = (
        value.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\n", "\\n")
        .replace("\r", "\\r")
        .replace("\t", "\\t")
    )
    return f'"{escaped}"'


def render_selector(labels: Mapping[str, str]) -> str:
    """``metric{label="value",...}`` (labels sorted) from a label map holding ``__name__``.

    ValueError names the metric or label name that PromQL would not parse."""
    name = labels.get("__name__")
    if not name:
        raise ValueError("its labels have no metric name (__name__)")
    if not METRIC_NAME.fullmatch(name):
        raise ValueError(f"{name!r} is not a Prometheus metric name")
    bad = [k for k in labels if k != "__name__" and not LABEL_NAME.fullmatch(k)]
    if bad:
        raise ValueError(f"invalid Prometheus label names: {', '.join(map(repr, bad))}")
    matchers = ",".join(
        f"{k}={quote(str(v))}" for k, v in sorted(labels.items()) if k != "__name__"
    )
    return f"{name}{{{matchers}}}" if matchers else name
