"""The noise plot's legend names each line once."""

from __future__ import annotations

from tests.integration.test_alert_model import seed

from lessonloop.services import alert_model
from lessonloop.services.alert_model import alert_noise_report, learn_alert_policy


def _legend(workspace, monkeypatch, tmp_path, **kwargs) -> list[str]:
    shown: list[str] = []

    def keep(fig, out):
        (ax,) = fig.axes
        shown.extend(t.get_text() for t in ax.get_legend().get_texts())
        return out

    monkeypatch.setattr(alert_model, "save_figure", keep)
    alert_model.plot_alert_noise(alert_noise_report(workspace, **kwargs), tmp_path / "n.png")
    return shown


def test_without_a_policy_one_line_and_with_one_two(workspace, monkeypatch, tmp_path) -> None:
    seed(workspace)
    assert _legend(workspace, monkeypatch, tmp_path) == [
        "every alert pages (each day)",
        "every alert pages (7-day mean)",
    ]
    version = learn_alert_policy(workspace, holdout_days=21, attribution_top=0).candidate_id
    assert _legend(workspace, monkeypatch, tmp_path, version_id=version) == [
        "every alert pages (each day)",
        "every alert pages (7-day mean)",
        f"model version {version} (each day)",
        f"model version {version} (7-day mean)",
    ]
