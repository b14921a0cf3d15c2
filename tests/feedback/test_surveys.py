"""The satisfaction survey by link: sent on closure (e-mail + in-app, in the requester's
language), single use, expiring, one reminder, a low score opens a return visit; and the
ratings moved from the portal."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from feedback import services
from feedback.choices import VisitReason
from feedback.models import Rating, ReturnVisit, Survey
from feedback.services.surveys import token_hash
from notifications.models import Notification
from notifications.selectors import readable as readable_rows
from portal.services import ticket_rate
from tests.factories import TicketFactory
from tickets import services as ticket_services


def _close(desk, django_capture_on_commit_callbacks, title="Password reset"):
    with django_capture_on_commit_callbacks(execute=True):
        ticket = TicketFactory(desk).closed(title=title)
    return ticket


def _link_token(body: str) -> str:
    match = re.search(r"/feedback/survey/([A-Za-z0-9_\-]+)/", body)
    assert match, body
    return match.group(1)


def test_closing_sends_one_survey_by_mail_and_inbox(desk, django_capture_on_commit_callbacks):
    desk.requester.language = "zh-hans"
    desk.requester.save(update_fields=["language"])
    ticket = _close(desk, django_capture_on_commit_callbacks)
    survey = Survey.objects.get(ticket=ticket)
    assert survey.recipient == desk.requester
    assert survey.expires_at - survey.created_at == timedelta(days=14)
    channels = sorted(
        Notification.objects.filter(
            dedupe_key__startswith=f"feedback.survey:{ticket.pk}:"
        ).values_list("channel", flat=True)
    )
    assert channels == ["email", "inbox"]
    # Stored as a kind with its parameters (rendered for each reader), not as sent text.
    inbox_row = Notification.objects.get(
        dedupe_key__startswith=f"feedback.survey:{ticket.pk}:", channel="inbox"
    )
    assert (inbox_row.kind, inbox_row.subject, inbox_row.body) == ("feedback.survey", "", "")
    assert sorted(inbox_row.params) == ["link", "number", "title"]
    [readable] = readable_rows([inbox_row], language="zh-hans")
    assert readable.subject == f"服务满意度调查：{ticket.number} Password reset"
    assert readable.link == inbox_row.params["link"] and "/feedback/survey/" in readable.link
    # The survey mail (the desk also told the requester the ticket is closed).
    [message] = [m for m in mail.outbox if "/feedback/survey/" in m.body]
    assert message.to == [desk.requester.email]
    assert "请求" in message.body  # the requester's language
    assert "评价我们的服务：" in message.body  # the link is the survey's, and says so
    assert "评价我们的服务</a>" in message.alternatives[0][0]
    token = _link_token(message.body)
    assert len(token) >= 43  # 256 random bits, url-safe
    assert survey.token_hash == token_hash(token) and token not in survey.token_hash
    # Running the reaction again sends nothing new.
    from feedback.reactions import on_status_changed

    with django_capture_on_commit_callbacks(execute=True):
        on_status_changed(ticket_id=ticket.pk, new="closed", old="resolved", actor_id=None)
    assert Survey.objects.filter(ticket=ticket).count() == 1
    assert len([m for m in mail.outbox if "/feedback/survey/" in m.body]) == 1


def test_link_opens_without_login_and_accepts_one_answer(
    client, desk, django_capture_on_commit_callbacks
):
    ticket = _close(desk, django_capture_on_commit_callbacks)
    ticket_services.comment_add(
        ticket_id=ticket.pk, actor=desk.tier1, body="INTERNAL: requester is VIP", is_internal=True
    )
    token = _link_token(mail.outbox[-1].body)
    url = reverse("feedback:survey", args=[token])
    page = client.get(url)
    assert page.status_code == 200
    assert ticket.number in page.content.decode()
    assert "INTERNAL" not in page.content.decode()
    done = client.post(url, {"score": "4", "comment": "Quick", "reasons": ["good"]})
    assert done.status_code == 200
    rating = Rating.objects.get(ticket=ticket)
    assert (rating.score, rating.comment, rating.reasons, rating.via_link) == (
        4,
        "Quick",
        ["good"],
        True,
    )
    assert rating.rated_by == desk.requester
    # Reused: 404, nothing changed.
    assert client.post(url, {"score": "1"}).status_code == 404
    assert client.get(url).status_code == 404
    assert Rating.objects.get(ticket=ticket).score == 4


def test_bad_tokens_and_scores(client, desk, django_capture_on_commit_callbacks):
    first = _close(desk, django_capture_on_commit_callbacks, title="First")
    token = _link_token(mail.outbox[-1].body)
    # A guessed token, an over-long one: 404.
    assert client.get(reverse("feedback:survey", args=["x" * 43])).status_code == 404
    assert client.get(reverse("feedback:survey", args=["a" * 200])).status_code == 404
    # Score 0 or 6: a form error, nothing stored.
    for score in ("0", "6"):
        page = client.post(reverse("feedback:survey", args=[token]), {"score": score})
        assert (
            page.status_code == 200
            and "is not one of the available choices" in page.content.decode()
        )
    assert not Rating.objects.filter(ticket=first).exists()
    # The API: a JSON error with field messages.
    answer = client.post(
        reverse("api-survey-answer", args=[token]), {"score": 6}, content_type="application/json"
    )
    assert answer.status_code == 400 and "score" in answer.json()
    with pytest.raises(Http404):
        services.survey_answer(token="nope", score=3)
    # Another ticket's token answers only its own ticket.
    second = _close(desk, django_capture_on_commit_callbacks, title="Second")
    other_token = _link_token(mail.outbox[-1].body)
    services.survey_answer(token=other_token, score=5)
    assert Rating.objects.get(ticket=second).score == 5
    assert not Rating.objects.filter(ticket=first).exists()


def test_survey_expires(client, desk, django_capture_on_commit_callbacks):
    ticket = _close(desk, django_capture_on_commit_callbacks)
    token = _link_token(mail.outbox[-1].body)
    with time_machine.travel(timezone.now() + timedelta(days=14, seconds=1)):
        assert client.get(reverse("feedback:survey", args=[token])).status_code == 404
        with pytest.raises(Http404):
            services.survey_answer(token=token, score=5)
    assert not Rating.objects.filter(ticket=ticket).exists()
    with time_machine.travel(timezone.now() + timedelta(days=13)):
        services.survey_answer(token=token, score=5)
    assert Rating.objects.get(ticket=ticket).score == 5


def test_one_reminder_run_twice_and_both_links_work(desk, django_capture_on_commit_callbacks):
    ticket = _close(desk, django_capture_on_commit_callbacks)
    first_token = _link_token(mail.outbox[-1].body)
    assert services.surveys_remind_due() == 0  # too early
    later = timezone.now() + timedelta(days=3, minutes=1)
    with time_machine.travel(later), django_capture_on_commit_callbacks(execute=True):
        assert services.surveys_remind_due() == 1
        assert services.surveys_remind_due() == 0
    reminders = [m for m in mail.outbox if m.subject.startswith("Reminder")]
    assert len(reminders) == 1
    second_token = _link_token(reminders[0].body)
    assert second_token != first_token
    assert services.survey_for_token(first_token).ticket == ticket
    assert services.survey_for_token(second_token).ticket == ticket


def test_a_low_score_opens_a_return_visit(desk, django_capture_on_commit_callbacks):
    ticket = _close(desk, django_capture_on_commit_callbacks)
    services.survey_answer(token=_link_token(mail.outbox[-1].body), score=2, comment="Slow")
    visit = ReturnVisit.objects.get(ticket=ticket)
    assert (visit.reason, visit.status, visit.team_id) == (
        VisitReason.LOW_SCORE,
        "open",
        desk.front.pk,
    )


def test_portal_rating_still_works_and_closes_the_link(
    client, desk, django_capture_on_commit_callbacks
):
    ticket = _close(desk, django_capture_on_commit_callbacks)
    token = _link_token(mail.outbox[-1].body)
    ticket_rate(ticket_id=ticket.pk, actor=desk.requester, score=5)
    assert client.get(reverse("feedback:survey", args=[token])).status_code == 404
    from portal.models import Rating as PortalName

    assert PortalName is Rating


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_answers_store_one(desk, django_capture_on_commit_callbacks):
    ticket = _close(desk, django_capture_on_commit_callbacks)
    token = _link_token(mail.outbox[-1].body)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def answer(score):
        try:
            barrier.wait()
            services.survey_answer(token=token, score=score)
            outcomes.append("ok")
        except Exception as exc:  # the loser: 404 (locked row found answered) or refused
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [threading.Thread(target=answer, args=(s,)) for s in (1, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes)[-1] == "ok" and outcomes.count("ok") == 1
    assert Rating.objects.filter(ticket=ticket).count() == 1


def test_survey_page_speaks_the_requesters_language(
    client, desk, django_capture_on_commit_callbacks
):
    ticket = _close(desk, django_capture_on_commit_callbacks)
    url = reverse("feedback:survey", args=[_link_token(mail.outbox[-1].body)])
    # No preference: the browser's Accept-Language decides.
    assert "您对本次服务满意吗" in client.get(url, HTTP_ACCEPT_LANGUAGE="zh-Hans").content.decode()
    assert "How did we do?" in client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    # The requester's own preference wins.
    desk.requester.language = "zh-hans"
    desk.requester.save(update_fields=["language"])
    page = client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "您对本次服务满意吗" in page and ticket.number in page


def test_a_requester_who_switched_off_survey_mail_gets_it_in_the_inbox_only(
    desk, django_capture_on_commit_callbacks
):
    from notifications.services import kinds_for, notification_preferences_set

    assert {"feedback.survey", "feedback.survey_reminder"} <= set(kinds_for(desk.requester))
    notification_preferences_set(user=desk.requester, choices={"feedback.survey": (True, False)})
    ticket = _close(desk, django_capture_on_commit_callbacks)
    channels = sorted(
        Notification.objects.filter(
            dedupe_key__startswith=f"feedback.survey:{ticket.pk}:"
        ).values_list("channel", flat=True)
    )
    assert channels == ["inbox"]
    assert [m for m in mail.outbox if "/feedback/survey/" in m.body] == []
