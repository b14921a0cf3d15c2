"""`manage.py classifier_eval`: measure the ticket classifier on labelled CSV files.

    manage.py classifier_eval --train A.csv --test B.csv --text COL[,COL...] --label COL
    manage.py classifier_eval --data A.csv --test-size 0.2 --seed 0 --text ... --label ...

Add --baseline to also measure plain TF-IDF + LinearSVC. The last line of stdout is one JSON
object (accuracy, macro_f1, per_class, train_seconds, predict_ms_per_ticket, n_train, n_test,
dropped_rows, the chosen configuration `config`, the model selection's `selection` with every
candidate's cross-validated macro-F1, `cv_macro_f1`, `baseline_cv_macro_f1`, `cv_ece`, ...).
Selection runs on the training file only; the test file is used once, to measure. The command
works on files only and never touches the database.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = (
        "Train the ticket classifier on labelled CSV data and measure it on held-out data "
        "(--train/--test files, or --data with a stratified split). Prints the metrics as one "
        "JSON object on the last line. Needs no database."
    )
    # Pure file-in, numbers-out: no system checks or migrations, so it runs without a database.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--train", metavar="CSV", help="Training file (.csv or .csv.gz).")
        parser.add_argument("--test", metavar="CSV", help="Test file (.csv or .csv.gz).")
        parser.add_argument(
            "--data", metavar="CSV", help="One file, split stratified into train and test."
        )
        parser.add_argument(
            "--test-size",
            type=float,
            default=0.2,
            help="Share of --data used for testing (default 0.2).",
        )
        parser.add_argument("--seed", type=int, default=0, help="Split seed (default 0).")
        parser.add_argument(
            "--text",
            required=True,
            metavar="COL[,COL...]",
            help="Text column(s), comma-separated; several are joined with a newline.",
        )
        parser.add_argument("--label", required=True, metavar="COL", help="Label column.")
        parser.add_argument(
            "--baseline",
            action="store_true",
            help="Also measure TF-IDF + LinearSVC with scikit-learn defaults.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # Imported here so that `manage.py help` does not load scikit-learn and jieba.
        from routing.classifier import ClassifierLoadError, run_eval

        try:
            result = run_eval(
                text_columns=options["text"].split(","),
                label_column=options["label"],
                train_path=options["train"],
                test_path=options["test"],
                data_path=options["data"],
                test_size=options["test_size"],
                seed=options["seed"],
                baseline=options["baseline"],
                log=self.stdout.write,
            )
        except (ValueError, OSError, ClassifierLoadError) as exc:
            raise CommandError(str(exc)) from exc

        summary = (
            f"{result['n_train']} training / {result['n_test']} test texts, "
            f"{result['dropped_rows']} rows without a label dropped: "
            f"accuracy {result['accuracy']:.4f}, macro-F1 {result['macro_f1']:.4f}"
        )
        if result.get("cv_macro_f1") is not None:
            summary += (
                f"; chosen by cross-validation: {result['selection']['chosen']} "
                f"(CV macro-F1 {result['cv_macro_f1']:.4f}, baseline "
                f"{result['baseline_cv_macro_f1']:.4f}, ECE {result['cv_ece']:.4f})"
            )
        if "baseline_macro_f1" in result:
            summary += (
                f" (baseline accuracy {result['baseline_accuracy']:.4f}, "
                f"macro-F1 {result['baseline_macro_f1']:.4f})"
            )
        self.stdout.write(summary)
        self.stdout.write(json.dumps(result, ensure_ascii=False))
