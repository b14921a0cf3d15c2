"""The statistical model path: confident predictions are used and logged with the version;
low confidence, unknown labels and broken model files send the ticket to manual triage."""

import pytest

from accounts.choices import Tier
from routing import engine, modelstore
from routing.choices import Target
from routing.models import ClassifierModel
from tickets.choices import EventKind, Status

from .helpers import log, train_file


@pytest.fixture
def threshold(settings):
    def _set(value: float) -> None:
        settings.SERVICEDESK = {**settings.SERVICEDESK, "CLASSIFIER_CONFIDENCE_THRESHOLD": value}

    return _set


def expected(target: str, ticket):
    """What the active model says about the ticket's model text (words, then signals)."""
    row = ClassifierModel.objects.get(target=target, is_active=True)
    return modelstore.predict(row, engine.model_text(ticket))


def test_confident_model_classifies_routes_and_logs_its_version(
    desk, create, seed_models, threshold
):
    threshold(0.0)
    ticket = create("忘记密码了", "请帮我重置OA系统的登录密码")
    said = expected(Target.REQUEST_TYPE, ticket)
    assert said.label == "account_permission"
    assert ticket.request_type.code == "account_permission"
    assert (ticket.status, ticket.tier, ticket.team) == (Status.IN_PROGRESS, Tier.FRONT, desk.front)
    assert ticket.classification_confidence == pytest.approx(said.confidence, abs=1e-4)
    entry = log(ticket, EventKind.CLASSIFIED)[0]
    assert f"model v1: account_permission {said.confidence:.2f}" in entry.message
    assert entry.data["models"]["request_type"] == {
        "version": 1,
        "label": "account_permission",
        "confidence": round(said.confidence, 4),
        "threshold": 0.0,
    }
    assert entry.data["models"]["category"]["version"] == 1
    assert ticket.category.code == entry.data["models"]["category"]["label"]
    assert "no active model for the team" in entry.data["notes"]
    # The type change entry carries the same reason and the model version.
    type_entry = log(ticket, EventKind.TYPE_CHANGED)[0]
    assert type_entry.data["models"]["request_type"]["version"] == 1
    assert type_entry.data["confidence"] == round(said.confidence, 4)


def test_english_and_mixed_text(desk, create, seed_models, threshold):
    threshold(0.0)
    assert create("The trading system is down", "nobody can log in").request_type.code == "fault"
    mixed = create("ERP 报表 export 是空白的", "the exported Excel file is empty 数据明明存在")
    assert mixed.request_type is not None
    assert mixed.status == Status.IN_PROGRESS


def test_below_the_threshold_goes_to_triage(desk, create, seed_models, threshold):
    threshold(1.0)
    first = create("系统有点问题", "麻烦看一下")  # the same text, signals and model as below
    said = expected(Target.REQUEST_TYPE, first)
    threshold(round(said.confidence + 0.01, 4))  # just above what the model says
    ticket = create("系统有点问题", "麻烦看一下")
    assert (ticket.status, ticket.needs_triage, ticket.request_type) == (Status.NEW, True, None)
    assert ticket.classification_confidence == pytest.approx(said.confidence, abs=1e-4)
    message = log(ticket, EventKind.TRIAGE)[0].message
    assert (
        f"model v1: {said.label} {said.confidence:.2f} is below the threshold "
        f"{said.confidence + 0.01:.2f}" in message
    )


def test_only_emoji_is_not_given_to_the_model(desk, create, seed_models, threshold):
    threshold(0.0)
    ticket = create("😀😀😀", "🙏")
    assert ticket.needs_triage is True
    entry = log(ticket, EventKind.CLASSIFIED)[0]
    assert entry.data["models"] == {}
    assert "the text has no words to classify" in log(ticket, EventKind.TRIAGE)[0].message


def test_100_kb_of_text(desk, create, seed_models, threshold):
    threshold(0.0)
    description = ("系统无法登录，所有人都打不开页面。" * 2100)[:34_000]  # ~100 KB of UTF-8
    assert len(description.encode()) > 100_000
    ticket = create("交易系统宕机", description)
    assert ticket.pk is not None
    assert ticket.request_type is not None
    assert log(ticket, EventKind.CLASSIFIED)[0].data["models"]["request_type"]["version"] == 1


def test_a_label_the_taxonomy_does_not_know(desk, create, model_dir, threshold):
    threshold(0.0)
    train_file(
        model_dir,
        "request_type-v0007.model",
        ["retired one alpha", "retired one beta", "gone two gamma", "gone two delta"],
        ["retired_type", "retired_type", "gone_type", "gone_type"],
    )
    ClassifierModel.objects.create(
        target=Target.REQUEST_TYPE, version=7, file_path="request_type-v0007.model", is_active=True
    )
    ticket = create("retired one alpha")
    assert (ticket.status, ticket.needs_triage) == (Status.NEW, True)
    message = log(ticket, EventKind.TRIAGE)[0].message
    assert "model v7: retired_type" in message
    assert "which is not a known request type" in message


def test_corrupt_model_file(desk, create, model_dir):
    model_dir.mkdir(parents=True)
    (model_dir / "request_type-v0002.model").write_bytes(b"\x00garbage, not a model\xff" * 10)
    ClassifierModel.objects.create(
        target=Target.REQUEST_TYPE, version=2, file_path="request_type-v0002.model", is_active=True
    )
    ticket = create("忘记密码了")
    assert (ticket.status, ticket.needs_triage) == (Status.NEW, True)
    message = log(ticket, EventKind.TRIAGE)[0].message
    assert "model v2 for the request type could not be used: " in message
    classified = log(ticket, EventKind.CLASSIFIED)[0]
    assert classified.data["models"]["request_type"]["version"] == 2
    assert classified.data["models"]["request_type"]["error"]


def test_missing_model_file(desk, create, model_dir):
    ClassifierModel.objects.create(
        target=Target.REQUEST_TYPE, version=4, file_path="request_type-v0004.model", is_active=True
    )
    ticket = create("忘记密码了")
    assert (ticket.status, ticket.needs_triage) == (Status.NEW, True)
    message = log(ticket, EventKind.TRIAGE)[0].message
    assert (
        "model v4 for the request type could not be used: "
        "model file request_type-v0004.model is missing" in message
    )


def test_a_rule_beats_the_model(desk, create, seed_models, threshold):
    from routing.models import ClassificationRule
    from tests.factories import request_type

    threshold(0.0)
    ClassificationRule.objects.create(
        name="Complaints", keywords="密码", set_request_type=request_type("complaint")
    )
    ticket = create("忘记密码了")
    assert ticket.request_type.code == "complaint"
    assert "request_type" not in log(ticket, EventKind.CLASSIFIED)[0].data["models"]


def test_prediction_is_fast_enough_to_run_in_process(
    desk, seed_models, django_assert_max_num_queries
):
    # Not a timing assertion: the loaded model is cached, so classifying touches the database
    # only for the rules, the active models, the labels and the matrix.
    from routing import engine
    from tickets.models import Ticket

    ticket = Ticket(title="忘记密码了", description="", channel="portal", impact=4, urgency=3)
    engine.classify(ticket)  # warm the cache
    with django_assert_max_num_queries(6):
        engine.classify(ticket)
