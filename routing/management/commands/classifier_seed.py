"""`manage.py classifier_seed`: load the built-in bilingual examples and train first models."""

from django.core.management.base import BaseCommand

from routing.services import routing_bootstrap_models


class Command(BaseCommand):
    help = (
        "Load the built-in Chinese and English example requests as training data and train the "
        "targets that have no active model yet, so a fresh desk classifies its first ticket."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="Retrain every target, even with a model."
        )

    def handle(self, *args, force=False, **options):
        results = routing_bootstrap_models(force=force)
        if not results:
            self.stdout.write("Every target already has an active model.")
        for result in results:
            style = self.style.SUCCESS if result.trained else self.style.WARNING
            self.stdout.write(style(f"{result.target}: {result.reason}"))
