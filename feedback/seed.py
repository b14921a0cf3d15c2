"""Demo data of the feedback app: ratings of the demo desk's closed tickets (a few low ones,
which open return visits), a return-visit sample, and inspections scored by the demo QA
inspector (one appealed). Called by `demo.services.demo_seed`; safe to run again."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from tickets.choices import Status
from tickets.models import Ticket

from . import services
from .choices import InspectionStatus
from .models import Inspection, Rating

COMMENTS = ["很快就解决了，谢谢！", "Quick and friendly.", "", "还可以", "Took a while.", "太慢了"]


def feedback_seed(*, qa_username: str = "qa", source: str = "demo") -> dict[str, int]:
    """Rate, sample and inspect the demo's closed tickets; return what was added."""
    closed = list(
        Ticket.objects.filter(status=Status.CLOSED, external_source=source)
        .select_related("requester")
        .order_by("id")
    )
    rated = set(Rating.objects.filter(ticket__in=closed).values_list("ticket_id", flat=True))
    added = {"ratings": 0, "visits": 0, "inspections": 0}
    for index, ticket in enumerate(closed):
        if ticket.pk in rated or index % 5 == 4:  # every fifth requester never answers
            continue
        score = [5, 4, 5, 3, 5, 2, 4, 1][index % 8]
        with transaction.atomic():
            services.rating_submit(
                ticket_id=ticket.pk,
                actor=ticket.requester,
                score=score,
                comment=COMMENTS[index % len(COMMENTS)],
                reasons=["good"] if score >= 4 else ["slow"],
            )
        added["ratings"] += 1
    now = timezone.now()
    added["visits"] = services.return_visits_sample(
        start=now - timedelta(days=30),
        end=now + timedelta(minutes=1),
        period=f"demo:{now:%Y-%m-%d}",
    )
    qa = User.objects.filter(username=qa_username).first()
    if qa is None:
        return added
    for index, ticket in enumerate(closed[:12]):
        if not ticket.assignee_id:
            continue
        inspection = services.inspection_request(ticket_id=ticket.pk, actor=qa)
        added["inspections"] += 1
        if inspection.status != InspectionStatus.PENDING or index % 3 == 2:
            continue  # a third stay in the inspector's queue
        marks = {
            item.pk: [100, 80, 60, 100, 0, 90][position % 6]
            for position, item in enumerate(inspection.scorecard.items.all())
        }
        services.inspection_score(
            inspection_id=inspection.pk, actor=qa, marks=marks, comment="抽检：处理规范。"
        )
        if index == 0:
            services.inspection_appeal(
                inspection_id=inspection.pk,
                actor=inspection.agent,
                reason="The knowledge article was linked in a comment.",
            )
    added["inspections"] = Inspection.objects.filter(ticket__in=closed).count()
    return added
