"""The catalogue-to-survey journey in a real headless Chromium, with the survey mail received
by a real SMTP server (aiosmtpd) started by the test on loopback.

A requester picks "VPN access" in the catalogue and fills its form (a conditional field shows
only for vendor access); the agent sees the structured answers on the ticket page (loaded
lazily); the ticket closes; the survey mail arrives; its link opens the survey without logging
in and accepts one answer, and only one.
"""

from __future__ import annotations

import email
import re
import socket
import time
from email import policy

import pytest
from aiosmtpd.controller import Controller

from feedback.models import Rating
from servicecatalog.models import Service
from servicecatalog.seed import catalogue_seed
from servicedesk.celery import app as celery_app
from tickets import services
from tickets.choices import Status
from tickets.models import Ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class _Inbox:
    """An aiosmtpd handler that keeps every message it receives."""

    def __init__(self):
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(email.message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp(settings):
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    settings.EMAIL_BACKEND = "notifications.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_USE_TLS = False
    yield inbox
    controller.stop()


@pytest.fixture
def eager_celery():
    """Deliver notifications inline (no worker in this test): the mail goes out on commit."""
    old = (celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates)
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = True, False
    yield
    celery_app.conf.task_always_eager, celery_app.conf.task_eager_propagates = old


def _wait_for(inbox: _Inbox, subject_part: str, to: str = "") -> email.message.EmailMessage:
    for _attempt in range(100):
        for message in inbox.messages:
            if subject_part in message["Subject"] and to in message["To"]:
                return message
        time.sleep(0.1)
    raise AssertionError(f"no mail about {subject_part}: {[m['Subject'] for m in inbox.messages]}")


def test_vpn_request_answers_survey_by_mail_link(
    open_as, browser, live_server, desk, smtp, eager_celery, settings
):
    settings.SERVICEDESK = {**settings.SERVICEDESK, "PUBLIC_BASE_URL": live_server.url}
    catalogue_seed()
    Service.objects.filter(code="vpn-access").update(team=desk.front, system=desk.system)
    base = live_server.url

    requester = open_as(desk.requester)
    requester.goto(f"{base}/catalogue/")
    requester.fill("[data-testid=catalogue-search]", "VPN")
    requester.wait_for_selector("[data-testid=service-password-reset]", state="detached")
    with requester.expect_navigation():
        requester.click("[data-testid=service-vpn-access]")
    assert requester.is_hidden("[data-field=vendor]")
    requester.select_option("select[name=purpose]", "vendor")
    assert requester.is_visible("[data-field=vendor]")
    requester.select_option("select[name=purpose]", "remote")
    assert requester.is_hidden("[data-field=vendor]")
    requester.fill("input[name=until]", "2030-01-31")
    requester.check("input[name=devices][value=laptop]")
    requester.fill("textarea[name=why]", "Working from home on Fridays")
    with requester.expect_navigation():
        requester.click("[data-testid=submit-service]")
    assert re.search(r"/portal/requests/SD-", requester.url)
    ticket = Ticket.objects.get()
    # Routed from the service's mapping and assigned by the team's strategy.
    assert (ticket.status, ticket.team_id) == (Status.IN_PROGRESS, desk.front.pk)

    agent = open_as(desk.tier1)
    agent.goto(f"{base}/workspace/tickets/{ticket.number}/")
    answers = agent.wait_for_selector("[data-testid=catalogue-answers]")
    table = answers.inner_text()
    for text in ("VPN access", "Remote work", "2030-01-31", "Laptop", "Working from home"):
        assert text in table

    services.ticket_take(ticket_id=ticket.pk, actor=desk.tier1)
    services.ticket_resolve(ticket_id=ticket.pk, actor=desk.tier1, resolution="Access granted")
    services.ticket_confirm(ticket_id=ticket.pk, actor=desk.requester)

    # The requester's survey (the desk's other messages about the ticket carry "[number]").
    mail = _wait_for(smtp, f" {ticket.number} ", to=desk.requester.email)
    assert mail["To"] == desk.requester.email
    body = mail.get_body(preferencelist=("plain",)).get_content()
    link = re.search(r"(http://\S+/feedback/survey/\S+/)", body).group(1)
    assert link.startswith(base)

    anonymous = browser.new_context(locale="en-US")
    try:
        page = anonymous.new_page()
        page.goto(link)
        assert ticket.number in page.inner_text("[data-testid=survey-ticket]")
        page.check("input[name=score][value='4']")
        page.fill("textarea[name=comment]", "Quick")
        with page.expect_navigation():
            page.click("[data-testid=submit-survey]")
        assert "Thank you" in page.inner_text("[data-testid=survey-thanks]")
        assert page.goto(link).status == 404
    finally:
        anonymous.close()
    rating = Rating.objects.get(ticket=ticket)
    assert (rating.score, rating.comment, rating.via_link) == (4, "Quick", True)
