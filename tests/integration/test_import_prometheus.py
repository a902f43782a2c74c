"""The Prometheus path against a real server: backfilled OpenMetrics, read via query_range."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator

import pytest

from lessonloop.services.importing import import_prometheus_series
from lessonloop.storage import series

START = 1_709_629_200  # 2024-03-05T09:00:00Z


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A prometheus server on 127.0.0.1 serving a backfilled block; stopped afterwards."""
    binaries = [shutil.which("promtool"), shutil.which("prometheus")]
    if None in binaries:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("CI=true but promtool/prometheus are not installed")
        pytest.skip("promtool/prometheus not installed (apt-get install prometheus)")
    root = tmp_path_factory.mktemp("prometheus")
    lines = ["# HELP http_errors_ratio Ratio of 5xx.", "# TYPE http_errors_ratio gauge"]
    lines += [
        f'http_errors_ratio{{service="checkout"}} {minute / 100} {START + 60 * minute}'
        for minute in range(30)
    ]
    source = root / "data.om"
    source.write_text("\n".join([*lines, "# EOF", ""]))
    storage = root / "tsdb"
    subprocess.run(
        [binaries[0], "tsdb", "create-blocks-from", "openmetrics", str(source), str(storage)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    config = root / "prometheus.yml"
    config.write_text("global:\n  scrape_interval: 1h\n")
    port = _free_port()
    process = subprocess.Popen(
        [
            binaries[1],
            f"--config.file={config}",
            f"--storage.tsdb.path={storage}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--storage.tsdb.retention.time=100y",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        else:
            pytest.fail("prometheus did not become ready")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_query_range_import_stores_the_backfilled_points(workspace, prometheus_url):
    start = dt.datetime.fromtimestamp(START, dt.UTC)
    end = start + dt.timedelta(minutes=29)
    summary = import_prometheus_series(
        workspace,
        prometheus_url,
        'http_errors_ratio{service="checkout"}',
        start,
        end,
        "60s",
        service="checkout",
        name="error_ratio",
    )
    assert summary.outcomes["series"] == {"created": 1}
    with workspace.transaction() as session:
        stored = series.get("checkout", "error_ratio", session=session)
    assert stored.timestamps.tolist() == [START + 60 * m for m in range(30)]
    assert stored.values.tolist() == pytest.approx([m / 100 for m in range(30)])
    again = import_prometheus_series(
        workspace,
        prometheus_url,
        'http_errors_ratio{service="checkout"}',
        start,
        end,
        "60s",
        service="checkout",
        name="error_ratio",
    )
    assert again.outcomes["series"] == {"unchanged": 1}


def test_a_range_longer_than_prometheus_allows_is_read_in_chunks(workspace, prometheus_url):
    """4 hours at 1 s is 14,401 steps: Prometheus refuses more than 11,000 in one query, so
    the import asks for two and joins them without a repeated or missing second."""
    start = dt.datetime.fromtimestamp(START, dt.UTC)
    end = start + dt.timedelta(hours=4)
    summary = import_prometheus_series(
        workspace,
        prometheus_url,
        'http_errors_ratio{service="checkout"}',
        start,
        end,
        "1s",
        service="checkout",
        name="error_ratio_1s",
    )
    assert summary.outcomes["series"] == {"created": 1}
    with workspace.transaction() as session:
        stored = series.get("checkout", "error_ratio_1s", session=session)
    stamps = stored.timestamps.tolist()
    # the last sample (minute 29) stays visible for Prometheus' 5-minute look-back
    assert stamps == list(range(START, START + 29 * 60 + 300 + 1))
    assert stored.values[stamps.index(START + 60 * 7 + 30)] == pytest.approx(0.07)
