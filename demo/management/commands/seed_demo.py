"""`manage.py seed_demo`: load the demo desk (idempotent; `make run` calls it every start)."""

from django.core.management.base import BaseCommand

from demo.services import demo_seed
from tickets import reactions


class Command(BaseCommand):
    help = (
        "Create the demo organisation, people, teams, catalogue and about 300 tickets in every "
        "status. Safe to run again: what exists is left as it is."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--tickets",
            type=int,
            default=300,
            help="How many demo tickets to have (default 300; every status gets at least one).",
        )
        parser.add_argument(
            "--history-days",
            type=int,
            default=90,
            help="Days of past tickets walked through the services for the reports (0: none).",
        )
        parser.add_argument(
            "--skip-classifier",
            action="store_true",
            help="Do not train the routing app's first classifier before creating tickets.",
        )

    def handle(self, *args, tickets: int, skip_classifier: bool, history_days: int = 90, **options):
        # In-process reactions: the seeding moves each ticket step by step and must see the
        # routing of one step before it takes the next (no worker runs yet during `make run`).
        with reactions.inline():
            report = demo_seed(
                ticket_count=max(tickets, 0),
                train_classifier=not skip_classifier,
                history_days=max(history_days, 0),
            )
        self.stdout.write(
            f"demo desk: {report.units} units, {report.teams} teams, {report.users} people, "
            f"{report.systems} systems; tickets: {report.tickets_created} created, "
            f"{report.tickets_existing} already there"
        )
        if report.history_created:
            self.stdout.write(f"demo history: {report.history_created} past tickets created")
        if report.classifier:
            self.stdout.write(report.classifier)
        if report.tickets_created:
            by_status = ", ".join(f"{k} {v}" for k, v in sorted(report.statuses.items()))
            self.stdout.write(f"demo tickets by status: {by_status}")
        if report.stopped_early:
            self.stderr.write(
                f"{len(report.stopped_early)} demo ticket(s) stopped before their planned "
                f"status (another app moved them first): {', '.join(report.stopped_early[:10])}"
            )
