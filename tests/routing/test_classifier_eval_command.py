"""`manage.py classifier_eval` and the `run_eval` it calls: small CSV files, no database."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from routing.classifier import run_eval
from routing.management.commands.classifier_eval import Command

from .test_classifier import EN_HELDOUT, EN_TRAIN, ZH_HELDOUT, ZH_TRAIN

REPO = Path(__file__).resolve().parents[2]
KEYS = {
    "accuracy",
    "macro_f1",
    "per_class",
    "train_seconds",
    "predict_ms_per_ticket",
    "n_train",
    "n_test",
    "dropped_rows",
}


def write_csv(path: Path, rows: list[tuple[str, str]], unlabelled: int = 0) -> Path:
    """A CSV with a title/description split of each text, plus `unlabelled` rows without label."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "description", "type"])
        for text, label in rows:
            title, _, rest = text.partition("，")
            writer.writerow([title, rest, label])
        for i in range(unlabelled):
            writer.writerow([f"未分类的工单 {i}", "", ""])
    return path


def train_rows() -> list[tuple[str, str]]:
    rows = [(text, label) for label, texts in ZH_TRAIN.items() for text in texts]
    return rows + [(text, label) for label, texts in EN_TRAIN.items() for text in texts]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("eval")
    return {
        "train": write_csv(directory / "train.csv", train_rows(), unlabelled=2),
        "test": write_csv(directory / "test.csv", ZH_HELDOUT + EN_HELDOUT, unlabelled=1),
        "data": write_csv(directory / "data.csv", train_rows() + ZH_HELDOUT + EN_HELDOUT),
    }


def test_run_eval_on_train_and_test_files(files: dict[str, Path]) -> None:
    result = run_eval(
        train_path=files["train"],
        test_path=files["test"],
        text_columns=["title", "description"],
        label_column="type",
    )
    assert set(result) >= KEYS
    assert result["n_train"] == 128
    assert result["n_test"] == 28
    assert result["dropped_rows"] == 3
    assert result["accuracy"] == 1.0
    assert result["macro_f1"] == 1.0
    assert result["per_class"]["password_reset"] == {
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
        "support": 7,
    }
    assert sorted(result["per_class"]) == ["complaint", "data_fix", "fault", "password_reset"]
    assert result["train_seconds"] > 0
    assert result["predict_ms_per_ticket"] > 0
    assert "baseline_macro_f1" not in result


def test_run_eval_with_a_stratified_split_and_the_baseline(files: dict[str, Path]) -> None:
    result = run_eval(
        data_path=files["data"],
        test_size=0.25,
        seed=0,
        text_columns=["title", "description"],
        label_column="type",
        baseline=True,
    )
    assert (result["n_train"], result["n_test"], result["dropped_rows"]) == (117, 39, 0)
    supports = {label: row["support"] for label, row in result["per_class"].items()}
    assert supports == {"complaint": 10, "data_fix": 10, "fault": 9, "password_reset": 10}
    assert 0.0 <= result["baseline_accuracy"] <= 1.0
    assert 0.0 <= result["baseline_macro_f1"] <= 1.0
    mean_f1 = sum(row["f1"] for row in result["per_class"].values()) / 4
    assert result["macro_f1"] == pytest.approx(mean_f1, abs=1e-3)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"data_path": "x.csv", "train_path": "a.csv"}, "not both"),
        ({"data_path": "x.csv", "test_path": "b.csv"}, "not both"),
        ({}, "give --train and --test, or --data"),
        ({"train_path": "a.csv"}, "give --train and --test, or --data"),
        ({"data_path": "nope.csv"}, "file not found"),
        ({"data_path": "nope.csv", "test_size": 1.5}, "between 0 and 1"),
    ],
)
def test_run_eval_refuses_bad_arguments(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run_eval(text_columns=["title"], label_column="type", **kwargs)


def test_run_eval_refuses_an_unknown_column(files: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match=r"'body'.*available columns: 'title', 'description'"):
        run_eval(data_path=files["data"], text_columns=["body"], label_column="type")


def test_the_command_needs_no_database() -> None:
    assert Command.requires_system_checks == []
    assert Command.requires_migrations_checks is False


def test_command_prints_json_on_the_last_line(files: dict[str, Path], capsys) -> None:
    call_command(
        "classifier_eval",
        "--train",
        str(files["train"]),
        "--test",
        str(files["test"]),
        "--text",
        "title,description",
        "--label",
        "type",
        "--baseline",
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) > 1  # progress and a summary come first
    result = json.loads(lines[-1])
    assert set(result) >= KEYS | {"baseline_accuracy", "baseline_macro_f1"}
    assert (result["n_train"], result["n_test"], result["dropped_rows"]) == (128, 28, 3)
    assert result["accuracy"] == 1.0
    # The choice made by cross-validation on the training file, and what it measured there.
    chosen = result["selection"]["chosen"]
    assert chosen == " | ".join(member["name"] for member in result["config"]["members"])
    assert result["selection"]["n_held_out"] == 128  # the test file plays no part in it
    names = {candidate["name"] for candidate in result["selection"]["candidates"]}
    assert result["selection"]["baseline"] in names
    assert result["cv_macro_f1"] >= result["baseline_cv_macro_f1"]
    assert 0.0 <= result["cv_ece"] <= 1.0
    # Training time comes with the CPU time and the load it was measured under.
    assert result["train_cpu_seconds"] >= 0
    assert len(result["load_average_at_start"]) == len(result["load_average"]) == 3
    assert f"chosen by cross-validation: {chosen}" in lines[-2]


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--data", "{data}", "--train", "{train}", "--test", "{test}"], "not both"),
        (["--data", "/nonexistent/file.csv"], "file not found: /nonexistent/file.csv"),
        (["--data", "{data}", "--text", "body"], "'body' not in"),
        (["--data", "{data}", "--label", "team"], "'team' not in"),
        (["--train", "{train}"], "give --train and --test, or --data"),
    ],
)
def test_command_errors_are_command_errors(
    files: dict[str, Path], arguments: list[str], message: str
) -> None:
    arguments = [argument.format(**files) for argument in arguments]
    if "--text" not in arguments:
        arguments += ["--text", "title"]
    if "--label" not in arguments:
        arguments += ["--label", "type"]
    with pytest.raises(CommandError, match=message):
        call_command("classifier_eval", *arguments)


def test_command_line_prints_json_last(files: dict[str, Path]) -> None:
    """Through manage.py as an operator runs it: nothing (warnings, logs) follows the JSON."""
    run = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "classifier_eval",
            "--data",
            str(files["data"]),
            "--test-size",
            "0.25",
            "--text",
            "title,description",
            "--label",
            "type",
        ],
        cwd=REPO,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "servicedesk.settings.test"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert (result["n_train"], result["n_test"], result["dropped_rows"]) == (117, 39, 0)
