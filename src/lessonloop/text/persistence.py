"""Save and load text models as a readable ``config.json`` plus a skops state file (no pickle)."""

from __future__ import annotations

import inspect
import json
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import skops.io as skops_io

from lessonloop.errors import InputError
from lessonloop.text.cooccurrence import LabelStack
from lessonloop.text.label_model import LabelModel
from lessonloop.text.taxonomy import Taxonomy

if TYPE_CHECKING:
    from lessonloop.text.classifier import FailureModeClassifier

__all__ = ["save_classifier", "load_classifier", "TRUSTED_STATE_TYPES"]

CLASSIFIER_FORMAT = "lessonloop.failure-mode-classifier"
CLASSIFIER_VERSION = 1
TRUSTED_STATE_TYPES = (
    "scipy.sparse._csr.csr_matrix",
    "sklearn.feature_extraction.text.TfidfVectorizer",
    "sklearn.linear_model._logistic.LogisticRegression",
    "lessonloop.text.features.TextFeatures",
)
_CONFIG = "config.json"
_STATE = "state.skops"


def _params(classifier: FailureModeClassifier) -> dict[str, Any]:
    """Constructor arguments except the taxonomy (stored on its own), JSON-ready."""
    names = [n for n in inspect.signature(type(classifier)).parameters if n != "taxonomy"]
    params = {name: getattr(classifier, name) for name in names}
    return {k: list(v) if isinstance(v, tuple) else v for k, v in params.items()}


def save_classifier(classifier: FailureModeClassifier, directory: str | Path) -> None:
    """Write the classifier's config (hyper-parameters, taxonomy, per-label choices) and state."""
    classifier._check_fitted()
    target = Path(directory)
    target.mkdir(parents=True, exist_ok=True)
    label_choices = {
        label: {
            "mode": m.mode,
            "n_positive": m.n_positive,
            "threshold": m.threshold,
            "blend_weight": m.blend_weight,
            "platt_slope": m.platt_slope,
            "platt_intercept": m.platt_intercept,
            "regularisation_c": m.regularisation_c,
        }
        for label, m in classifier.label_models_.items()
    }
    config = {
        "format": CLASSIFIER_FORMAT,
        "version": CLASSIFIER_VERSION,
        "params": _params(classifier),
        "taxonomy": classifier._active_taxonomy().to_mapping(),
        "training_taxonomy": classifier.training_taxonomy_.to_mapping(),
        "labels": label_choices,
        "train_ids": classifier.train_ids_,
        "feature_view": list(getattr(classifier, "feature_view_", (1.0, 1.0))),
        "threshold_rule": getattr(classifier, "threshold_rule_", classifier.threshold_rule),
        "label_stacks": {
            label: {
                "coefficients": list(stack.coefficients),
                "intercept": stack.intercept,
                "threshold": stack.threshold,
            }
            for label, stack in getattr(classifier, "label_stacks_", {}).items()
        },
        "warnings": classifier.warnings_,
    }
    state = {
        "features": classifier.features_,
        "estimators": {k: m.estimator for k, m in classifier.label_models_.items()},
        "train_matrix": classifier.train_matrix_,
        "train_truth": classifier.train_truth_,
    }
    (target / _CONFIG).write_text(json.dumps(config, indent=2), encoding="utf-8")
    skops_io.dump(state, target / _STATE)


def load_classifier(
    directory: str | Path, *, taxonomy: Taxonomy | None = None
) -> FailureModeClassifier:
    """Read a saved classifier, refusing state types outside ``TRUSTED_STATE_TYPES``.

    With ``taxonomy`` given, labels the model knows but the taxonomy no longer has are
    dropped (with a warning); taxonomy labels the model never learned use their keywords.
    """
    from lessonloop.text.classifier import FailureModeClassifier

    source = Path(directory)
    config_path = source / _CONFIG
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("no saved classifier here", file=str(config_path)) from None
    except json.JSONDecodeError as error:
        raise InputError(
            f"invalid JSON: {error.msg}", file=str(config_path), line=error.lineno
        ) from None
    if config.get("format") != CLASSIFIER_FORMAT or config.get("version") != CLASSIFIER_VERSION:
        raise InputError("not a failure-mode classifier of a known version", file=str(config_path))
    untrusted = skops_io.get_untrusted_types(file=source / _STATE)
    refused = sorted(set(untrusted) - set(TRUSTED_STATE_TYPES))
    if refused:
        raise InputError(
            f"state holds untrusted types: {', '.join(refused)}", file=str(source / _STATE)
        )
    state = skops_io.load(source / _STATE, trusted=list(untrusted))
    params: dict[str, Any] = {
        k: tuple(v) if isinstance(v, list) else v for k, v in config["params"].items()
    }
    saved_taxonomy = Taxonomy.from_mapping(config["taxonomy"])
    active = taxonomy if taxonomy is not None else saved_taxonomy
    classifier = FailureModeClassifier(active, **params)
    classifier.training_taxonomy_ = Taxonomy.from_mapping(config["training_taxonomy"])
    classifier.warnings_ = list(config.get("warnings", []))
    classifier.features_ = state["features"]
    classifier.train_matrix_ = state["train_matrix"]
    classifier.train_truth_ = state["train_truth"]
    classifier.train_ids_ = list(config["train_ids"])
    word_weight, char_weight = config.get("feature_view", [1.0, 1.0])
    classifier.feature_view_ = (float(word_weight), float(char_weight))
    classifier.threshold_rule_ = str(config.get("threshold_rule", classifier.threshold_rule))
    classifier.label_models_ = {}
    for label, choice in config["labels"].items():
        classifier.label_models_[label] = LabelModel(
            label=label, estimator=state["estimators"].get(label), **choice
        )
    classifier.label_stacks_ = {
        label: LabelStack(
            tuple(float(x) for x in stack["coefficients"]),
            float(stack["intercept"]),
            float(stack["threshold"]),
        )
        for label, stack in config.get("label_stacks", {}).items()
    }
    dropped = sorted(set(classifier.label_models_) - set(active.labels))
    if dropped:
        message = f"labels removed from the taxonomy are dropped: {', '.join(dropped)}"
        classifier.warnings_.append(message)
        warnings.warn(message, UserWarning, stacklevel=2)
    return classifier
