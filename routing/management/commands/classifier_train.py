"""`manage.py classifier_train`: train new classifier versions from the labelled tickets."""

from django.core.management.base import BaseCommand

from routing.choices import Target
from routing.services import routing_train_models


class Command(BaseCommand):
    help = (
        "Train a new classifier version per target (request type, category, team) from agents' "
        "corrections, closed tickets and seed examples; activate it and record holdout metrics. "
        "Targets whose data did not change are skipped unless --force."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--target",
            action="append",
            choices=Target.values,
            help="Only this target (repeatable).",
        )
        parser.add_argument(
            "--force", action="store_true", help="Train even when the data did not change."
        )

    def handle(self, *args, target=None, force=False, **options):
        for result in routing_train_models(targets=target, force=force):
            line = f"{result.target}: {result.reason}"
            if result.trained and result.metrics.get("accuracy") is not None:
                line += (
                    f" ({result.model.n_samples} examples, holdout accuracy "
                    f"{result.metrics['accuracy']:.2f}, macro-F1 {result.metrics['macro_f1']:.2f})"
                )
            style = self.style.SUCCESS if result.trained else self.style.WARNING
            self.stdout.write(style(line))
