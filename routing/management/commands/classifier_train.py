"""`manage.py classifier_train`: train new classifier versions from the labelled tickets."""

from django.core.management.base import BaseCommand

from routing.choices import Target
from routing.services import routing_train_models


class Command(BaseCommand):
    help = (
        "Train a new classifier version per target (request type, category, team) from agents' "
        "corrections, closed tickets and seed examples, choosing the configuration by "
        "cross-validation; activate it unless its CV macro-F1 is below the active version's. "
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
            model = result.model
            if result.trained and model is not None and model.cv_macro_f1 is not None:
                line += (
                    f" ({model.n_samples} examples; chosen {model.metrics.get('chosen')}; "
                    f"CV macro-F1 {model.cv_macro_f1:.4f}, baseline "
                    f"{model.baseline_cv_macro_f1:.4f}; ECE {model.ece:.4f})"
                )
            elif result.trained and model is not None:
                line += f" ({model.n_samples} examples; too few to cross-validate)"
            activated = result.trained and model is not None and model.is_active
            style = self.style.SUCCESS if activated else self.style.WARNING
            self.stdout.write(style(line))
