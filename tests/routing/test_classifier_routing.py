"""The classifier inside routing: the ticket's signals as features, pooling by tier for a known
system, batch prediction, per-version thresholds from a target precision, the retraining
guard and the admin pages about model versions."""

from __future__ import annotations

import pytest

from accounts.choices import Tier
from notifications.models import Notification
from routing import engine, modelstore, services
from routing.choices import ExampleSource, Target
from routing.classifier import TextClassifier, signal_token
from routing.models import ClassifierModel, TrainingExample
from routing.seed_examples import EXAMPLES
from tests.factories import UserFactory
from tickets import reactions
from tickets.choices import EventKind

from .helpers import log, train_file


@pytest.fixture
def threshold(settings):
    def _set(value: float) -> None:
        settings.SERVICEDESK = {**settings.SERVICEDESK, "CLASSIFIER_CONFIDENCE_THRESHOLD": value}

    return _set


def activate(target: str, file_name: str, **fields) -> ClassifierModel:
    return ClassifierModel.objects.create(
        target=target, version=1, file_path=file_name, is_active=True, **fields
    )


# --- signals ---------------------------------------------------------------------------------


def test_model_text_carries_the_tickets_signals(desk, create):
    ticket = create("VPN 连不上", "今天早上开始", system=desk.system)
    assert engine.model_text(ticket) == (
        "VPN 连不上\n今天早上开始\n"
        f"__chan_portal__ __sys_{desk.system.pk}__ __unit_{ticket.unit_id}__"
    )
    assert signal_token("sys", "办公") == "__sys__e58a9ee585ac__"  # one token in any script


def test_a_known_system_is_not_sent_to_triage_for_lack_of_words(desk, create, model_dir, threshold):
    """Tickets of this system were faults: a wordless ticket naming it is one too."""
    system = signal_token("sys", desk.system.pk)
    texts, labels = [], []
    for text, type_code, _category in EXAMPLES:
        texts.append(text)
        labels.append(type_code)
        if type_code == "fault":
            texts.append(f"{text}\n__chan_portal__ {system}")
            labels.append(type_code)
    activate(Target.REQUEST_TYPE, train_file(model_dir, "rt.model", texts, labels))
    threshold(0.5)
    ticket = create("？？？", "🙏", system=desk.system)
    assert ticket.needs_triage is False
    assert ticket.request_type.code == "fault"
    assert ticket.tier == Tier.MIDDLE
    without_system = create("？？？", "🙏")
    assert without_system.needs_triage is True
    assert "no words to classify" in log(without_system, EventKind.TRIAGE)[0].message


def test_types_of_one_tier_are_pooled_when_the_system_is_known(desk, create, model_dir, threshold):
    # Faults and defects say the same words here; only a serial number tells them apart.
    texts = [f"系统报错，编号{i}" for i in range(10)] + [f"系统报错，版本{i}" for i in range(10)]
    labels = ["fault"] * 10 + ["defect"] * 10
    texts += [
        f"{words}，工号{i}"
        for i in range(3)
        for words in ("忘记密码请重置", "账号锁定请解锁", "申请开通权限")
    ]
    labels += ["account_permission"] * 9
    activate(Target.REQUEST_TYPE, train_file(model_dir, "rt.model", texts, labels))
    title = "系统报错"
    probe = create(title, system=desk.system)  # the model's view of this very text
    row = ClassifierModel.objects.get(target=Target.REQUEST_TYPE)
    [said], probabilities = modelstore.predict_detailed(row, [engine.model_text(probe)])
    classes = modelstore.load(row).classes_
    middle = sum(
        p
        for label, p in zip(classes, probabilities[0], strict=True)
        if label != "account_permission"
    )
    assert said.label in ("fault", "defect") and said.confidence < middle - 0.05
    threshold(round((said.confidence + middle) / 2, 4))

    ticket = create(title, system=desk.system)
    assert (ticket.needs_triage, ticket.request_type.code, ticket.tier) == (
        False,
        said.label,
        Tier.MIDDLE,
    )
    entry = log(ticket, EventKind.CLASSIFIED)[0]
    assert "together reach" in entry.message
    assert entry.data["models"]["request_type"]["tier_share"] == pytest.approx(middle, abs=1e-3)
    assert create(title).needs_triage is True  # no system: no pooling


# --- batch prediction ------------------------------------------------------------------------


def test_one_prediction_call_per_target_for_a_batch(
    desk, create, seed_models, threshold, monkeypatch, django_assert_max_num_queries
):
    threshold(0.0)
    tickets = [
        create("忘记密码了", "请重置"),
        create("VPN连不上", system=desk.system),
        create("The printer is jammed"),
        create("🙏"),
    ]
    alone = [engine.classify(ticket).as_data() for ticket in tickets]

    calls = []
    original = TextClassifier._logits

    def counting(self, texts):
        calls.append(len(texts))
        return original(self, texts)

    monkeypatch.setattr(TextClassifier, "_logits", counting)
    with reactions.batch():
        with django_assert_max_num_queries(4):
            assert engine.prepare_batch([t.pk for t in tickets]) == 2 * len(tickets)
        assert calls == [4, 4]  # request type and category: one call each for four tickets
        batched = [engine.classify(ticket).as_data() for ticket in tickets]
    assert calls == [4, 4]  # classify() read the batch's predictions
    assert batched == alone


def test_prepare_batch_without_models_or_with_a_broken_file_predicts_nothing(db, model_dir):
    assert engine.prepare_batch([1, 2]) == 0
    activate(Target.REQUEST_TYPE, "missing.model")
    with reactions.batch():
        assert engine.prepare_batch([1, 2]) == 0


# --- thresholds from a target precision ------------------------------------------------------


def test_a_versions_threshold_comes_from_its_target_precision(db, model_dir, threshold):
    services.routing_seed_examples()
    [result] = services.routing_train_models(targets=[Target.REQUEST_TYPE])
    model = result.model
    curve = model.curve
    threshold(0.5)
    model.apply_target_precision(None)
    assert model.threshold is None
    assert model.triage_share == round(1 - curve["auto_share"][50], 4)
    model.apply_target_precision(0.9)
    index = curve["thresholds"].index(model.threshold)
    assert curve["precision"][index] >= 0.9
    assert all(p is None or p < 0.9 for p in curve["precision"][:index])
    assert model.triage_share == round(1 - curve["auto_share"][index], 4)
    model.save()
    assert engine.model_threshold(model) == model.threshold


def test_the_versions_threshold_decides(desk, create, seed_models, threshold):
    threshold(0.0)
    row = seed_models[Target.REQUEST_TYPE]
    row.threshold = 1.0  # e.g. an unreachable target precision
    row.save()
    ticket = create("忘记密码了", "请帮我重置OA系统的登录密码")
    assert ticket.needs_triage is True
    assert log(ticket, EventKind.CLASSIFIED)[0].data["models"]["request_type"]["threshold"] == 1.0


# --- the retraining guard --------------------------------------------------------------------


def test_a_worse_retrained_model_stays_inactive_and_the_admin_is_told(
    desk, model_dir, django_capture_on_commit_callbacks
):
    services.routing_seed_examples()
    [first] = services.routing_train_models(targets=[Target.REQUEST_TYPE])
    v1 = first.model
    assert v1.is_active and v1.cv_macro_f1 is not None
    # Corrections that contradict each other: the same texts under every label.
    codes = sorted({t for _x, t, _c in EXAMPLES})
    TrainingExample.objects.bulk_create(
        TrainingExample(
            text=f"{text} 随机{i}",
            target=Target.REQUEST_TYPE,
            label=codes[(i + 1) % len(codes)],
            source=ExampleSource.AGENT_CORRECTION,
        )
        for i, (text, _type, _category) in enumerate(EXAMPLES)
    )
    with django_capture_on_commit_callbacks(execute=True):
        [second] = services.routing_train_models(targets=[Target.REQUEST_TYPE])
    v2 = second.model
    v1.refresh_from_db()
    assert second.trained is True
    assert v2.cv_macro_f1 < v1.cv_macro_f1
    assert (v1.is_active, v2.is_active) == (True, False)
    assert "not activated" in second.reason
    assert f"below {v1.cv_macro_f1:.4f} of the active v1" in v2.note
    notes = Notification.objects.filter(
        recipient=desk.admin, dedupe_key__startswith=f"routing:retrain-kept-active:{v2.pk}"
    )
    assert notes.exists()
    assert notes.first().subject == "Classifier request type v2 was not activated"
    # The administrator may still choose it; the note then goes.
    services.routing_model_activate(model_id=v2.pk, actor=desk.admin)
    v2.refresh_from_db()
    assert (v2.is_active, v2.note) == (True, "")


def test_a_better_or_equal_model_replaces_the_active_one(db, model_dir):
    services.routing_seed_examples()
    services.routing_train_models(targets=[Target.REQUEST_TYPE])
    [again] = services.routing_train_models(targets=[Target.REQUEST_TYPE], force=True)
    assert again.model.is_active is True  # same data, same score: not worse
    assert again.reason == "trained v2"


# --- the admin -------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("halving", [False, True], ids=["full-grid", "successive-halving"])
def test_the_admin_shows_the_choice_and_sets_a_target_precision(
    admin_client, model_dir, monkeypatch, halving
):
    if halving:
        # A large desk's selection (from HALVING_FROM texts): pruned candidates must not take
        # the held-out calibration error or the triage numbers out of the admin.
        monkeypatch.setattr("routing.classifier.selection.HALVING_FROM", 0)
    services.routing_seed_examples()
    [result] = services.routing_train_models(targets=[Target.REQUEST_TYPE])
    model = result.model
    assert bool(model.metrics["pruned"]) is halving
    assert model.ece is not None and model.curve is not None
    listing = admin_client.get("/admin/routing/classifiermodel/").content.decode()
    assert model.metrics["chosen"] in listing
    assert f"{model.cv_macro_f1}" in listing
    assert f"{model.ece}" in listing
    assert f"{100 * model.triage_share:.1f} %" in listing  # at the desk-wide threshold
    url = f"/admin/routing/classifiermodel/{model.pk}/change/"
    page = admin_client.get(url).content.decode()
    assert "precision of the rest" in page and "CV macro-F1" in page
    response = admin_client.post(url, {"target_precision": "0.9"}, follow=True)
    model.refresh_from_db()
    assert model.target_precision == 0.9
    assert model.threshold is not None
    assert f"{100 * model.triage_share:.1f} % of held-out tickets go to triage" in (
        response.content.decode()
    )
    bad = admin_client.post(url, {"target_precision": "1.5"})
    assert bad.status_code == 200
    assert "Give a precision between 0 and 1" in bad.content.decode()
    model.refresh_from_db()
    assert model.target_precision == 0.9


def test_the_batch_prelude_reaction_fills_the_batch(desk, create, seed_models, threshold):
    from routing.reactions import before_intake_batch

    threshold(0.0)
    ticket = create("忘记密码了", "请重置")
    with reactions.batch():
        before_intake_batch(ticket_ids=[ticket.pk])
        stored = reactions.memo("routing.batch_predictions", dict)
        assert {key[0] for key in stored} == {Target.REQUEST_TYPE, Target.CATEGORY}
        assert all(key[2] == ticket.pk for key in stored)


def test_a_version_from_before_model_selection_is_retrained(db, model_dir):
    services.routing_seed_examples()
    [first] = services.routing_train_models(targets=[Target.REQUEST_TYPE])
    ClassifierModel.objects.filter(pk=first.model.pk).update(config={}, cv_macro_f1=None)
    [again] = services.routing_train_models(targets=[Target.REQUEST_TYPE])
    assert (again.reason, again.model.is_active) == ("trained v2", True)
