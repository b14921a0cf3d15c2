"""Training one classifier version for one target, with the retraining guard.

Model selection runs inside `TextClassifier.fit` (cross-validation on the training data); its
chosen configuration, cross-validated macro-F1, the baseline's, the held-out ECE and the
precision curve are recorded on the version. A new version replaces the active one only if its
cross-validated macro-F1 is not worse (within SERVICEDESK["CLASSIFIER_RETRAIN_TOLERANCE"]);
otherwise it is kept inactive with a note, the active version stays, and the desk's
administrators are told. An administrator can still activate it by hand.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from . import modelstore
from .models import ClassifierModel

if TYPE_CHECKING:
    from .classifier import TextClassifier


def retrain_tolerance() -> float:
    return float(settings.SERVICEDESK.get("CLASSIFIER_RETRAIN_TOLERANCE", 0.0))


def default_target_precision() -> float | None:
    value = settings.SERVICEDESK.get("CLASSIFIER_TARGET_PRECISION")
    return None if value in (None, "") else float(value)


def version_metrics(classifier: TextClassifier, labels: list[str]) -> dict[str, Any]:
    """What the version records in `metrics`: the model selection's summary (candidates,
    folds, ECE, accuracy and precision curve of the held-out folds) and the label counts."""
    metrics: dict[str, Any] = dict(classifier.selection_)
    if not metrics:
        metrics["note"] = "too few examples to choose by cross-validation: default configuration"
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    metrics["label_counts"] = dict(sorted(counts.items()))
    return metrics


def worse_than_active(new_score: float | None, active: ClassifierModel | None) -> bool:
    """True when the active version has a cross-validated macro-F1 and the new one is below
    it by more than the tolerance."""
    if active is None or active.cv_macro_f1 is None or new_score is None:
        return False
    return new_score < active.cv_macro_f1 - retrain_tolerance()


def store_version(
    *,
    target: str,
    classifier: TextClassifier,
    texts: list[str],
    labels: list[str],
    digest: str,
) -> tuple[ClassifierModel, bool]:
    """Save the trained classifier as the target's next version; activate it unless it is
    worse than the active one. Returns (version, activated)."""
    metrics = version_metrics(classifier, labels)
    selection = classifier.selection_
    cv_score = selection.get("cv_macro_f1")
    with transaction.atomic():
        # Lock the target's versions so two runs cannot both take the same number.
        list(ClassifierModel.objects.select_for_update().filter(target=target))
        active = ClassifierModel.objects.filter(target=target, is_active=True).first()
        version = (
            ClassifierModel.objects.filter(target=target).aggregate(v=Max("version"))["v"] or 0
        ) + 1
        file_name = modelstore.save(classifier, f"{target}-v{version:04d}.model")
        rejected = worse_than_active(cv_score, active)
        note = ""
        if rejected:
            assert active is not None
            note = _(
                "Not activated: cross-validated macro-F1 %(new).4f is below %(old).4f of the "
                "active v%(version)d, which stays active."
            ) % {"new": cv_score, "old": active.cv_macro_f1, "version": active.version}
        model = ClassifierModel(
            target=target,
            version=version,
            file_path=file_name,
            n_samples=len(texts),
            labels=sorted(set(labels)),
            metrics=metrics,
            data_fingerprint=digest,
            is_active=not rejected,
            config=classifier.config_,
            cv_macro_f1=cv_score,
            baseline_cv_macro_f1=selection.get("baseline_cv_macro_f1"),
            ece=selection.get("ece"),
            note=note,
        )
        # A new version inherits the desk's target precision from the one it replaces.
        target_precision = default_target_precision()
        if active is not None and active.target_precision is not None:
            target_precision = active.target_precision
        model.apply_target_precision(target_precision)
        if not rejected:
            ClassifierModel.objects.filter(target=target, is_active=True).update(is_active=False)
        model.save()
    if rejected:
        from .notify import notify_retrain_kept_active

        transaction.on_commit(lambda: notify_retrain_kept_active(model))
    return model, not rejected
