"""The demo report: a terminal summary and a self-contained HTML page with inline SVG plots."""

from __future__ import annotations

import html
import io
import json
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

__all__ = ["render_html", "PLOTS", "headline"]

PLOTS = ("mttd", "false_alerts", "recall", "funnel")


def _svg(fig: Any) -> str:
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", bbox_inches="tight")
    plt.close(fig)
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def _interval_plot(
    rows: list[dict[str, Any]], key: str, ci_key: str | None, title: str, unit: str
) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    labels = [r["quarter"] for r in rows]
    for offset, (who, colour) in enumerate((("baseline", "#c0392b"), ("champion", "#2471a3"))):
        xs = [i + (offset - 0.5) * 0.2 for i in range(len(rows))]
        ys = [r[who][key] if r[who][key] is not None else float("nan") for r in rows]
        if ci_key:
            lows = [y - (r[who][ci_key] or [y, y])[0] for y, r in zip(ys, rows, strict=True)]
            highs = [(r[who][ci_key] or [y, y])[1] - y for y, r in zip(ys, rows, strict=True)]
            ax.errorbar(
                xs,
                ys,
                yerr=[lows, highs],
                fmt="o",
                capsize=4,
                color=colour,
                label="static baseline"
                if who == "baseline"
                else "champion (static rules until a model is promoted)",
            )
        else:
            ax.plot(xs, ys, "o-", color=colour, label=who)
    ax.set_xticks(range(len(rows)), labels)
    ax.set_title(title)
    ax.set_ylabel(unit)
    ax.grid(alpha=0.3)
    ax.legend()
    return _svg(fig)


def _alert_plot(rows: list[dict[str, Any]]) -> str:
    """Noise pages per day each quarter, scored on the generator's truth: every alert pages,
    the policy in use, and the candidate tested on that quarter (95% intervals over days)."""
    scored = [r for r in rows if r.get("alerts", {}).get("truth")]
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    for offset, (who, label, colour, marker) in enumerate(
        (
            ("every_alert_pages", "every alert pages", "#c0392b", "o"),
            ("in_use", "policy in use", "#2471a3", "o"),
            ("candidate", "candidate (tested on the quarter)", "#7f8c8d", "s"),
        )
    ):
        xs, ys, lows, highs = [], [], [], []
        for i, row in enumerate(scored):
            found = row["alerts"]["truth"].get(who)
            if not found:
                continue
            y = found["noise_pages_per_day"]
            low, high = found.get("noise_pages_per_day_ci") or [y, y]
            xs.append(i + (offset - 1) * 0.2)
            ys.append(y)
            lows.append(y - low)
            highs.append(high - y)
        ax.errorbar(xs, ys, yerr=[lows, highs], fmt=marker, capsize=4, color=colour, label=label)
    ax.set_xticks(range(len(scored)), [r["quarter"] for r in scored])
    ax.set_title("Alert noise pages per day (generator's truth, 95% interval)")
    ax.set_ylabel("per day")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return _svg(fig)


def _funnel_plot(funnel: dict[str, int]) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 2.6))
    names = list(funnel)
    ax.barh(names[::-1], [funnel[n] for n in names][::-1], color="#5d6d7e")
    for y, name in enumerate(names[::-1]):
        ax.text(funnel[name], y, f" {funnel[name]}", va="center")
    ax.set_title("Signal funnel: from human insight to a promoted model")
    return _svg(fig)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.0%}"


def headline(report: dict[str, Any]) -> list[str]:
    """One line per quarter: static baseline against the champion in production."""
    lines = []
    for row in report["quarters"]:
        b, c = row["baseline"], row["champion"]
        lines.append(
            f"{row['quarter']}: MTTD {b['mttd_minutes']} → {c['mttd_minutes']} min, "
            f"false alerts/day {b['false_alerts_per_day']} → {c['false_alerts_per_day']}, "
            f"recall {_pct(b['recall'])} → {_pct(c['recall'])} (champion: "
            f"{row['champion_version'] or 'static rules'})"
        )
    return lines


def alert_headline(report: dict[str, Any]) -> list[str]:
    """One line per quarter with an alert policy test, scored on the generator's truth:
    noise pages per day with every alert paging, with the policy in use, and with the
    candidate (learned on the quarters before, so this quarter is unseen)."""
    lines = []
    for row in report["quarters"]:
        alerts = row.get("alerts")
        if not alerts or "truth" not in alerts:
            continue
        t = alerts["truth"]
        every, used, cand = t["every_alert_pages"], t["in_use"], t["candidate"]
        lines.append(
            f"{row['quarter']} alerts: noise pages/day {every['noise_pages_per_day']} (every "
            f"alert pages) → {used['noise_pages_per_day']} (policy in use, incidents paged "
            f"{used['incidents_covered']}/{used['incidents']}); candidate "
            f"{alerts['candidate']} {cand['noise_pages_per_day']} "
            f"({cand['incidents_covered']}/{cand['incidents']}): {alerts['decision']}"
            + (", promoted" if alerts.get("promoted") else "")
        )
    return lines


def _alert_rows(report: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for row in report["quarters"]:
        alerts = row.get("alerts")
        if not alerts or "truth" not in alerts:
            continue
        t = alerts["truth"]
        rows.append(
            [row["quarter"]]
            + [
                f"{t[k]['noise_pages_per_day']} {t[k]['noise_pages_per_day_ci']} · "
                f"{t[k]['incidents_covered']}/{t[k]['incidents']}"
                for k in ("every_alert_pages", "in_use", "candidate")
            ]
            + [alerts["candidate"], alerts["decision"], alerts.get("promoted") or ""]
        )
    return rows


def _table(headers: list[str], rows: list[list[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{html.escape(str(h))}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows
    )
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _programme_rows(programme: dict[str, Any], prefix: str = "") -> list[list[Any]]:
    """The programme's metrics as (dotted name, value) rows, its sections flattened."""
    rows: list[list[Any]] = []
    for name, value in programme.items():
        if isinstance(value, dict):
            rows += _programme_rows(value, f"{prefix}{name}.")
        else:
            rows.append([f"{prefix}{name}", "n/a" if value is None else value])
    return rows


def render_html(report: dict[str, Any]) -> str:
    """A page that opens without a network: inline SVG, inline CSS, the JSON embedded."""
    rows = report["quarters"]
    plots = {
        "mttd": _interval_plot(
            rows,
            "mttd_minutes",
            "mttd_ci",
            "MTTD per quarter (median, 95% bootstrap interval)",
            "minutes",
        ),
        "false_alerts": _interval_plot(
            rows,
            "false_alerts_per_day",
            "false_alerts_ci",
            "False alerts per day (95% interval)",
            "per day",
        ),
        "recall": _interval_plot(rows, "recall", "recall_ci", "Incident recall", "share"),
        "funnel": _funnel_plot(report["funnel"]),
    }
    if any(r.get("alerts", {}).get("truth") for r in rows):
        plots["alert_noise"] = _alert_plot(rows)
    quarter_rows = [
        [
            r["quarter"],
            r["baseline"]["mttd_minutes"],
            r["champion"]["mttd_minutes"],
            r["baseline"]["false_alerts_per_day"],
            r["champion"]["false_alerts_per_day"],
            _pct(r["baseline"]["recall"]),
            _pct(r["champion"]["recall"]),
            r["champion_version"] or "static",
        ]
        for r in rows
    ]
    insight_rows = [
        [
            i["group"],
            i["incident_key"],
            i["text"],
            i["signals_used"],
            i.get("effect_mttd_minutes"),
            i.get("effect_false_alerts_per_day"),
            i.get("review", ""),
        ]
        for i in report.get("top_insights", [])
    ]
    programme = report.get("programme", {})
    sections = [
        "<h1>Lessonloop: what the organisation learned</h1>",
        "<p>" + "<br>".join(html.escape(line) for line in headline(report)) + "</p>",
        _table(
            [
                "quarter",
                "baseline MTTD",
                "champion MTTD",
                "baseline false/day",
                "champion false/day",
                "baseline recall",
                "champion recall",
                "champion",
            ],
            quarter_rows,
            "numbers",
        ),
        *(f'<figure id="plot-{name}">{svg}</figure>' for name, svg in plots.items()),
        "<h2>Insights that taught the champion (ablation on held-out quarters)</h2>",
        "<p>Effect = metric when the champion is retrained without these signals, minus the "
        "metric with them: positive MTTD and false-alert effects mean they helped.</p>",
        _table(
            [
                "insight",
                "incident",
                "text",
                "signals used",
                "MTTD effect (min)",
                "false alerts/day effect",
                "review",
            ],
            insight_rows,
            "insights",
        ),
        "<h2>Alert noise (scored on the generator's truth)</h2>",
        "<p>Noise pages per day [95% interval over days] · incidents paged, per quarter: "
        "every alert paging, the alert policy in use, and the candidate learned on the "
        "quarters before (this quarter is unseen). The learner never sees the truth: it learns "
        "from the stored alerts, incidents and reviewers' signals (docs/alert-noise.md).</p>",
        _table(
            [
                "quarter",
                "every alert pages",
                "policy in use",
                "candidate",
                "version",
                "verdict",
                "promoted",
            ],
            _alert_rows(report),
            "alerts",
        ),
        "<h2>The learning programme</h2>",
        "<p>Every metric is defined in docs/programme.md (<code>lessonloop programme "
        "report</code> shows them for any workspace).</p>",
        _table(["metric", "value"], _programme_rows(programme), "programme"),
        '<script type="application/json" id="report-data">'
        + json.dumps(report, default=str).replace("</", "<\\/")
        + "</script>",
    ]
    style = (
        "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;color:#222}"
        "table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;"
        "padding:.3rem .6rem;text-align:left}figure{margin:1rem 0}"
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Lessonloop demo report</title><style>{style}</style></head><body>"
        + "\n".join(sections)
        + "</body></html>\n"
    )
