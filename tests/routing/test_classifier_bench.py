"""The classifier bench finds its data by option or environment variable, or says how to."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "bench_classifier.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_classifier", BENCH)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_missing_data_file_stops_with_a_message(bench, monkeypatch, tmp_path) -> None:
    monkeypatch.delenv("CLASSIFIER_BENCH_DATA", raising=False)
    missing = tmp_path / "nowhere.csv.gz"
    with pytest.raises(SystemExit) as stopped:
        bench.data_path(missing)
    message = str(stopped.value)
    assert f"the data file {missing} does not exist" in message
    assert "--data PATH" in message and "CLASSIFIER_BENCH_DATA" in message


def test_the_option_wins_then_the_environment(bench, monkeypatch, tmp_path) -> None:
    by_option, by_environment = tmp_path / "a.csv", tmp_path / "b.csv"
    by_option.write_text("x,y\n")
    by_environment.write_text("x,y\n")
    monkeypatch.setenv("CLASSIFIER_BENCH_DATA", str(by_environment))
    assert bench.data_path(by_option) == by_option
    assert bench.data_path(None) == by_environment


def test_a_small_run_on_a_tiny_file(bench, tmp_path, capsys) -> None:
    from .test_classifier import EN_HELDOUT, EN_TRAIN, ZH_HELDOUT, ZH_TRAIN, flatten

    rows = list(zip(*flatten(ZH_TRAIN), strict=True)) + list(zip(*flatten(EN_TRAIN), strict=True))
    rows += ZH_HELDOUT + EN_HELDOUT
    data = tmp_path / "tickets.csv"
    data.write_text(
        "Document,Topic_group\n" + "".join(f'"{text}",{label}\n' for text, label in rows * 2),
        encoding="utf-8",
    )
    result = bench.main(["--small", "--data", str(data)])
    assert result["n_train"] + result["n_test"] == 2 * len(rows)
    assert result["chosen"] and result["cv_macro_f1"] >= result["baseline_cv_macro_f1"]
    assert result["budget_n_train"] == result["n_train"]
    assert result["data"] == str(data)


@pytest.mark.parametrize("full_grid", [False, True])
def test_full_grid_turns_successive_halving_off(bench, tmp_path, monkeypatch, full_grid) -> None:
    from routing.classifier import selection

    from .test_classifier import EN_TRAIN, ZH_TRAIN, flatten

    # Halving from any size (a large desk's selection), restored after the test.
    monkeypatch.setattr(selection, "HALVING_FROM", 0)
    rows = list(zip(*flatten(ZH_TRAIN), strict=True)) + list(zip(*flatten(EN_TRAIN), strict=True))
    data = tmp_path / "tickets.csv"
    data.write_text(
        "Document,Topic_group\n" + "".join(f'"{text}",{label}\n' for text, label in rows * 2),
        encoding="utf-8",
    )
    result = bench.main(["--small", "--data", str(data), *(["--full-grid"] if full_grid else [])])
    assert result["full_grid"] is full_grid
    assert bool(result["pruned"]) is not full_grid
    assert result["cv_macro_f1"] >= result["baseline_cv_macro_f1"]
