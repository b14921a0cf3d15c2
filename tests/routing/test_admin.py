"""The routing admin pages: rules, matrix, model versions (read-only) and training examples."""

import pytest
from celery.schedules import crontab
from django.conf import settings

from routing.choices import Target
from routing.models import ClassifierModel, PriorityMatrix, TrainingExample
from tests.factories import UserFactory


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize(
    "model", ["classificationrule", "prioritymatrix", "classifiermodel", "trainingexample"]
)
def test_changelists_render(admin_client, model):
    TrainingExample.objects.create(
        text="密码", target=Target.REQUEST_TYPE, label="x", source="seed"
    )
    ClassifierModel.objects.create(target=Target.REQUEST_TYPE, version=1, file_path="x.model")
    assert admin_client.get(f"/admin/routing/{model}/").status_code == 200


def test_models_cannot_be_added_and_the_matrix_has_fixed_cells(admin_client):
    assert admin_client.get("/admin/routing/classifiermodel/add/").status_code == 403
    assert admin_client.get("/admin/routing/prioritymatrix/add/").status_code == 403
    cell = PriorityMatrix.objects.get(impact=1, urgency=4)
    assert admin_client.get(f"/admin/routing/prioritymatrix/{cell.pk}/delete/").status_code == 403


def test_activate_action_reports_a_missing_file(admin_client, model_dir):
    model = ClassifierModel.objects.create(
        target=Target.REQUEST_TYPE, version=1, file_path="request_type-v0001.model"
    )
    response = admin_client.post(
        "/admin/routing/classifiermodel/",
        {"action": "activate", "_selected_action": [model.pk]},
        follow=True,
    )
    assert "This version cannot be loaded" in response.content.decode()
    model.refresh_from_db()
    assert model.is_active is False


def test_nightly_retraining_is_scheduled_at_0230():
    entry = settings.CELERY_BEAT_SCHEDULE["routing.retrain_classifiers"]
    assert entry["task"] == "routing.retrain_classifiers"
    assert entry["schedule"] == crontab(hour=2, minute=30)
