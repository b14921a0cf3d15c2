"""Ticket numbers: SD-<year>-<6+ digits>, unique, from a database sequence (no race)."""

from __future__ import annotations

import re
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from tests.factories import TicketFactory
from tickets import services
from tickets.models import Ticket

NUMBER = re.compile(r"^SD-(\d{4})-(\d{6,})$")
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.django_db
def test_numbers_have_the_prefix_the_year_and_increase(desk):
    first, second = TicketFactory(desk).new(), TicketFactory(desk).new()
    year = str(datetime.now(SHANGHAI).year)
    a, b = NUMBER.match(first.number), NUMBER.match(second.number)
    assert a and b and a.group(1) == b.group(1) == year
    assert int(b.group(2)) == int(a.group(2)) + 1


@pytest.mark.django_db
def test_the_year_is_the_desk_local_year_of_creation(desk):
    # 2026-12-31 17:30 UTC is already 2027 in Shanghai, the desk's time zone.
    with time_machine.travel(datetime(2026, 12, 31, 17, 30, tzinfo=ZoneInfo("UTC")), tick=False):
        ticket = TicketFactory(desk).new()
    assert NUMBER.match(ticket.number).group(1) == "2027"


@pytest.mark.django_db
def test_the_prefix_is_configurable(desk, settings):
    settings.SERVICEDESK = {**settings.SERVICEDESK, "TICKET_NUMBER_PREFIX": "IT"}
    assert TicketFactory(desk).new().number.startswith("IT-")


@pytest.mark.django_db
def test_a_number_is_never_reused_after_a_rollback(desk):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        lost = TicketFactory(desk).new()
        raise RuntimeError
    after = TicketFactory(desk).new()
    assert after.number != lost.number
    assert not Ticket.objects.filter(number=lost.number).exists()


@pytest.mark.django_db(transaction=True)
def test_twenty_tickets_created_at_once_get_twenty_distinct_numbers(desk):
    count = 20
    barrier = threading.Barrier(count)
    numbers: list[str | None] = [None] * count
    errors: list[BaseException] = []

    def create(index: int) -> None:
        try:
            barrier.wait(timeout=20)
            ticket, _ = services.ticket_create(
                requester=desk.requester, title=f"At once {index}", created_by=desk.requester
            )
            numbers[index] = ticket.number
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    threads = [threading.Thread(target=create, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    assert all(n is not None and NUMBER.match(n) for n in numbers)
    assert len(set(numbers)) == count
    stored = set(
        Ticket.objects.filter(title__startswith="At once").values_list("number", flat=True)
    )
    assert stored == set(numbers)
