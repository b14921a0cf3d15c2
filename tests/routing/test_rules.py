"""Admin rules: matching on keywords, regex, channel and system; order; validation."""

import pytest
from django.core.exceptions import ValidationError

from accounts.choices import Tier
from catalog.models import Category
from routing.models import ClassificationRule
from tests.factories import SystemFactory, UserFactory, request_type
from tickets.choices import Channel, EventKind, Status

from .helpers import log


def rule(name, **kwargs) -> ClassificationRule:
    kwargs.setdefault("order", 100)
    return ClassificationRule.objects.create(name=name, **kwargs)


def test_chinese_keyword_sets_account_permission(desk, create):
    rule("Passwords", keywords="密码\n口令", set_request_type=request_type("account_permission"))
    ticket = create("忘记密码了", "请帮我重置OA的登录密码")
    assert ticket.request_type.code == "account_permission"
    # Front office, round robin: the first agent of the team has it.
    assert (ticket.status, ticket.tier, ticket.team) == (Status.IN_PROGRESS, Tier.FRONT, desk.front)
    assert ticket.assignee == desk.tier1
    assert ticket.classification_confidence == 1.0
    assert ticket.needs_triage is False
    classified = log(ticket, EventKind.CLASSIFIED)
    assert len(classified) == 1
    assert "rule 'Passwords' matched" in classified[0].message
    assert classified[0].data["rule"]["name"] == "Passwords"


def test_keywords_are_case_insensitive_and_width_insensitive(desk, create):
    rule("VPN", keywords="vpn, 远程接入", set_request_type=request_type("fault"))
    assert create("Cannot reach the VPN").request_type.code == "fault"
    assert create("ＶＰＮ断了").request_type.code == "fault"  # full-width letters
    assert create("远程接入不可用").request_type.code == "fault"
    assert create("Printer jam").needs_triage is True


def test_regex_rule(desk, create):
    rule(
        "Error codes",
        regex=r"\b(ORA|ERR)-\d{3,5}\b",
        set_request_type=request_type("defect"),
    )
    assert create("Saving fails", "the page shows ora-00942 table missing").request_type.code == (
        "defect"
    )
    assert create("Saving fails", "the page shows ORA 942").needs_triage is True


def test_channel_rule_from_the_default_data(desk, create):
    # Seeded by the data migration: alerts are faults.
    ticket = create("CPU high on app01", channel=Channel.ALERT)
    assert ticket.request_type.code == "fault"
    assert (
        "rule 'Monitoring alerts are faults' matched"
        in log(ticket, EventKind.CLASSIFIED)[0].message
    )


def test_system_rule_and_all_conditions_must_hold(desk, create):
    crm = SystemFactory(code="crm", name="CRM")
    rule(
        "CRM data",
        keywords="数据",
        system=crm,
        set_request_type=request_type("data_processing"),
        set_category=Category.objects.get(code="data-fix"),
    )
    ticket = create("客户数据错了", system=crm)
    assert ticket.request_type.code == "data_processing"
    assert ticket.category.code == "data-fix"
    assert create("客户数据错了", system=desk.system).needs_triage is True  # other system
    assert create("客户名称错了", system=crm).needs_triage is True  # no keyword


def test_first_matching_rule_in_order_wins_and_inactive_rules_are_skipped(desk, create):
    rule("Late", order=50, keywords="登录", set_request_type=request_type("fault"))
    rule("Early", order=10, keywords="登录", set_request_type=request_type("account_permission"))
    rule(
        "Earliest but off",
        order=1,
        keywords="登录",
        is_active=False,
        set_request_type=request_type("complaint"),
    )
    ticket = create("无法登录")
    assert ticket.request_type.code == "account_permission"
    assert log(ticket, EventKind.CLASSIFIED)[0].data["rule"]["name"] == "Early"


def test_rule_team_of_the_right_tier_is_used(desk, create):
    from tests.factories import TeamFactory

    second_front = TeamFactory(code="front-vip", name="VIP desk", tier=Tier.FRONT)
    rule(
        "VIP",
        keywords="vip",
        set_request_type=request_type("consultation"),
        set_team=second_front,
    )
    ticket = create("VIP question about e-mail")
    assert ticket.team == second_front
    # A rule naming a team at another tier than the type's entry tier is overruled (§5).
    rule(
        "Back",
        order=1,
        keywords="backdoor",
        set_request_type=request_type("defect"),
        set_team=desk.back,
    )
    ticket = create("backdoor page broken")
    assert (ticket.tier, ticket.team) == (Tier.MIDDLE, desk.middle)
    assert "is not at the middle office" in log(ticket, EventKind.CLASSIFIED)[0].data["notes"][-1]


def test_invalid_regex_is_a_form_error_and_cannot_be_saved(db):
    bad = ClassificationRule(
        name="Broken", regex="(unclosed", set_request_type=request_type("fault")
    )
    with pytest.raises(ValidationError) as form_error:
        bad.full_clean()
    assert "regex" in form_error.value.message_dict
    with pytest.raises(ValidationError):
        bad.save()
    assert not ClassificationRule.objects.filter(name="Broken").exists()


def test_rule_needs_a_condition_and_an_action(db):
    with pytest.raises(ValidationError) as error:
        ClassificationRule(name="Empty").full_clean()
    assert error.value.message_dict["__all__"] == [
        "Give at least one condition: keywords, a regex, a channel or a system.",
        "Give at least one thing the rule sets.",
    ]


def test_rule_admin_form_shows_the_regex_error(db, client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.post(
        "/admin/routing/classificationrule/add/",
        {
            "name": "Bad",
            "order": 1,
            "is_active": "on",
            "regex": "[a-",
            "set_request_type": request_type("fault").pk,
        },
    )
    assert response.status_code == 200
    assert "Not a valid regular expression" in response.content.decode()
    assert not ClassificationRule.objects.filter(name="Bad").exists()
