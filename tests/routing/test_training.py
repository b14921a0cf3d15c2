"""Retraining: versions, metrics, closed tickets as data, the nightly job run twice, rollback."""

import psycopg2
import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection

from accounts.choices import Tier
from routing import engine, services, tasks
from routing.choices import ExampleSource, Target
from routing.models import ClassifierModel, TrainingExample
from routing.seed_examples import EXAMPLES
from tests.factories import request_type
from tickets.choices import EventKind
from tickets.services import (
    ticket_confirm,
    ticket_dispatch,
    ticket_resolve,
    ticket_take,
    ticket_verify,
)

from .helpers import log

SMALL_SEED = [
    example
    for code in sorted({t for _x, t, _c in EXAMPLES})
    for example in [e for e in EXAMPLES if e[1] == code][8:13]  # five per type, both languages
]


@pytest.fixture(autouse=True)
def small_seed(monkeypatch):
    """Train on 35 of the seed examples: the same code path, a fraction of the time."""
    monkeypatch.setattr("routing.seed_examples.EXAMPLES", SMALL_SEED)


@pytest.fixture
def threshold_zero(settings):
    settings.SERVICEDESK = {**settings.SERVICEDESK, "CLASSIFIER_CONFIDENCE_THRESHOLD": 0.0}


def versions(target=Target.REQUEST_TYPE) -> list[tuple[int, bool]]:
    return list(
        ClassifierModel.objects.filter(target=target)
        .order_by("version")
        .values_list("version", "is_active")
    )


def test_bootstrap_trains_request_type_and_category_from_the_seed(db, model_dir):
    results = {r.target: r for r in services.routing_bootstrap_models()}
    assert results[Target.REQUEST_TYPE].trained and results[Target.CATEGORY].trained
    assert not results[Target.TEAM].trained
    assert results[Target.TEAM].reason == (
        "0 example(s) with 0 label(s): at least two labels are needed"
    )
    model = ClassifierModel.objects.get(target=Target.REQUEST_TYPE)
    assert (model.version, model.is_active, model.n_samples) == (1, True, len(SMALL_SEED))
    assert model.labels == sorted({t for _x, t, _c in EXAMPLES})
    assert (model_dir / "request_type-v0001.model").is_file()
    # Model selection on the 35 examples: 5-fold cross-validation, every fold held out once.
    assert set(model.metrics) >= {"chosen", "candidates", "cv_macro_f1", "ece", "curve"}
    assert model.metrics["n_held_out"] == 35
    assert model.metrics["folds"] == 5
    assert model.metrics["label_counts"]["fault"] == 5
    assert model.cv_macro_f1 == model.metrics["cv_macro_f1"]
    assert model.cv_macro_f1 >= model.baseline_cv_macro_f1
    assert model.ece == model.metrics["ece"]
    assert model.config["members"][0]["name"] in model.metrics["chosen"]
    # No target precision set: the desk-wide threshold, and the share it sends to triage.
    assert (model.target_precision, model.threshold) == (None, None)
    assert 0.0 <= model.triage_share <= 1.0
    assert TrainingExample.objects.filter(source=ExampleSource.SEED).count() == len(
        SMALL_SEED
    ) + sum(1 for _x, _t, c in SMALL_SEED if c)
    # Again: nothing new (the seed is loaded once, and every target has a model or no data).
    assert [r.trained for r in services.routing_bootstrap_models()] == [False]
    assert versions() == [(1, True)]


def test_retrain_makes_version_n_plus_1_and_the_next_ticket_names_it(
    desk, create, model_dir, threshold_zero
):
    services.routing_bootstrap_models()
    ticket = create("打印机卡纸了", "三楼的打印机一直卡纸")
    assert log(ticket, EventKind.CLASSIFIED)[0].data["models"]["request_type"]["version"] == 1
    services.routing_correct(
        ticket_id=ticket.pk, actor=desk.admin, request_type=request_type("consultation")
    )
    results = {r.target: r for r in services.routing_train_models(targets=[Target.REQUEST_TYPE])}
    assert results[Target.REQUEST_TYPE].reason == "trained v2"
    assert versions() == [(1, False), (2, True)]
    assert ClassifierModel.objects.get(version=2, target=Target.REQUEST_TYPE).n_samples == (
        len(SMALL_SEED) + 1
    )
    following = create("打印机又卡纸了")
    entry = log(following, EventKind.CLASSIFIED)[0]
    assert entry.data["models"]["request_type"]["version"] == 2
    assert "model v2: " in entry.message


def test_the_nightly_job_run_twice_is_safe(db, model_dir):
    services.routing_seed_examples()
    first = tasks.retrain_classifiers()
    assert first == {
        "request_type": "trained v1",
        "category": "trained v1",
        "team": "0 example(s) with 0 label(s): at least two labels are needed",
    }
    second = tasks.retrain_classifiers()
    assert second == {
        "request_type": "training data unchanged since v1",
        "category": "training data unchanged since v1",
        "team": "0 example(s) with 0 label(s): at least two labels are needed",
    }
    assert versions() == [(1, True)]
    assert versions(Target.CATEGORY) == [(1, True)]


def test_a_concurrent_run_returns_at_once(db, model_dir):
    params = connection.get_connection_params()
    other = psycopg2.connect(**params)
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [services.TRAINING_LOCK_KEY])
        results = services.routing_train_models()
        assert {r.reason for r in results} == {"another training run is in progress"}
    finally:
        other.close()
    assert ClassifierModel.objects.count() == 0


def test_force_trains_even_without_changes(db, model_dir):
    services.routing_seed_examples()
    services.routing_train_models(targets=[Target.REQUEST_TYPE])
    services.routing_train_models(targets=[Target.REQUEST_TYPE], force=True)
    assert versions() == [(1, False), (2, True)]


def test_labels_outside_the_taxonomy_are_left_out(db, model_dir):
    services.routing_seed_examples()
    TrainingExample.objects.create(
        text="ghost ticket", target=Target.REQUEST_TYPE, label="ghost", source="seed"
    )
    request_type("complaint").__class__.objects.filter(code="complaint").update(is_active=False)
    services.routing_train_models(targets=[Target.REQUEST_TYPE])
    model = ClassifierModel.objects.get(target=Target.REQUEST_TYPE)
    assert "ghost" not in model.labels and "complaint" not in model.labels
    assert len(model.labels) == 6


def test_closed_tickets_become_training_data(desk, create):
    from routing.models import ClassificationRule

    ClassificationRule.objects.create(
        name="d", keywords="broken", set_request_type=request_type("defect")
    )
    ticket = create("order page broken", system=desk.system)
    assert ticket.assignee == desk.expert
    ticket_dispatch(ticket_id=ticket.pk, actor=desk.expert, team=desk.back, reason="owner")
    ticket_take(ticket_id=ticket.pk, actor=desk.engineer)
    ticket_resolve(ticket_id=ticket.pk, actor=desk.engineer, resolution="fixed")
    ticket_verify(ticket_id=ticket.pk, actor=desk.expert, passed=True)
    ticket_confirm(ticket_id=ticket.pk, actor=desk.requester)
    assert services.routing_collect_closed_examples() == 2
    rows = {
        e.target: (e.label, e.source, e.text) for e in TrainingExample.objects.filter(ticket=ticket)
    }
    text = engine.model_text(ticket)  # the words, then the ticket's signals
    assert text.startswith("order page broken\n__chan_portal__ __sys_")
    assert rows == {
        # The team is the one it had at its type's entry tier (middle), not the back office.
        Target.REQUEST_TYPE: ("defect", ExampleSource.CLOSED_TICKET, text),
        Target.TEAM: ("middle-app", ExampleSource.CLOSED_TICKET, text),
    }
    assert services.routing_collect_closed_examples() == 0  # safe to repeat
    assert desk.middle.tier == Tier.MIDDLE


def test_activate_an_earlier_version_and_refuse_a_broken_one(desk, model_dir):
    services.routing_seed_examples()
    services.routing_train_models(targets=[Target.REQUEST_TYPE])
    services.routing_train_models(targets=[Target.REQUEST_TYPE], force=True)
    first = ClassifierModel.objects.get(target=Target.REQUEST_TYPE, version=1)
    services.routing_model_activate(model_id=first.pk, actor=desk.admin)
    assert versions() == [(1, True), (2, False)]
    (model_dir / "request_type-v0002.model").unlink()
    second = ClassifierModel.objects.get(target=Target.REQUEST_TYPE, version=2)
    with pytest.raises(ValidationError):
        services.routing_model_activate(model_id=second.pk, actor=desk.admin)
    assert versions() == [(1, True), (2, False)]


def test_old_files_are_pruned(db, model_dir, monkeypatch):
    monkeypatch.setattr(services, "KEEP_MODEL_FILES", 1)
    services.routing_seed_examples()
    for _ in range(3):
        services.routing_train_models(targets=[Target.REQUEST_TYPE], force=True)
    files = sorted(p.name for p in model_dir.glob("request_type-*.model"))
    assert files == ["request_type-v0002.model", "request_type-v0003.model"]
    assert versions() == [(1, False), (2, False), (3, True)]


def test_management_commands(db, model_dir, capsys):
    call_command("classifier_seed")
    out = capsys.readouterr().out
    assert "request_type: trained v1" in out
    assert "category: trained v1" in out
    call_command("classifier_train", "--target", "request_type")
    assert capsys.readouterr().out.strip() == "request_type: training data unchanged since v1"
    call_command("classifier_train", "--target", "request_type", "--force")
    assert capsys.readouterr().out.startswith("request_type: trained v2 (35 examples")
