"""Background jobs of routing: the nightly retraining of the classifiers."""

from __future__ import annotations

from servicedesk.tasks import desk_task

from . import services


@desk_task("routing.retrain_classifiers", soft_time_limit=1500, time_limit=1800)
def retrain_classifiers(force: bool = False) -> dict[str, str]:
    """Train a new version per target when the training data changed (beat, 02:30).

    Idempotent: unchanged data trains nothing, and a second concurrent run returns at once.
    """
    return {
        result.target: str(result.reason) for result in services.routing_train_models(force=force)
    }
