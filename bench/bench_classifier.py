"""Benchmark of the ticket text classifier against a plain TF-IDF + LinearSVC baseline.

    python bench/bench_classifier.py [--small|--quick] [--full-grid] [--data PATH]

Data: `--data PATH`, else the environment variable CLASSIFIER_BENCH_DATA, else
../shared/data/it_tickets_en.csv.gz beside the checkout (47,837 English IT tickets, columns
Document and Topic_group; `--text` / `--label` name other columns). A missing file stops the
bench with a message saying how to point it at the data. Stratified 80/20 split with seed 0;
model selection sees the training part only. Both models are trained in the same run on the
same split. It also times training on a 10,000-ticket stratified sample (the issue's budget:
≤ 120 s on 2 cores) and prediction one at a time and in batches of 100 (the intake drain's
batch). Progress goes to stderr; the last line of stdout is one JSON object. `--small` (or
`--quick`) uses a 10,000-ticket sample of the data for a smoke run; `--full-grid` turns
successive halving off (every candidate on every fold), to compare its cost and choice with
the default selection on the same data. Other arguments (run_all passes its own) are ignored.
Needs no Django settings.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from sklearn.metrics import accuracy_score, f1_score  # noqa: E402

from routing.classifier import TextClassifier, baseline_model  # noqa: E402
from routing.classifier import selection as model_selection  # noqa: E402
from routing.csvdata import read_labelled_csv, stratified_split  # noqa: E402

DEFAULT_DATA = REPO.parent / "shared/data/it_tickets_en.csv.gz"
SMALL_SIZE = 10_000
BUDGET_SIZE = 10_000
SINGLE_PREDICTIONS = 300
BATCH = 100


def log(message: str) -> None:
    print(f"bench_classifier: {message}", file=sys.stderr, flush=True)


def data_path(option: Path | None) -> Path:
    """The labelled CSV to use, or SystemExit with a message saying how to give it."""
    path = option or Path(os.environ.get("CLASSIFIER_BENCH_DATA") or DEFAULT_DATA)
    if not path.is_file():
        raise SystemExit(
            f"bench_classifier: the data file {path} does not exist. Give it with "
            "--data PATH or the environment variable CLASSIFIER_BENCH_DATA (by default "
            f"the bench reads {DEFAULT_DATA}, beside the checkout)."
        )
    return path


def timed_fit(texts: list[str], labels: list[str]) -> tuple[TextClassifier, float, float, list]:
    load = [round(x, 2) for x in os.getloadavg()]
    wall, cpu = time.perf_counter(), time.process_time()
    model = TextClassifier().fit(texts, labels, log=log)
    return model, time.perf_counter() - wall, time.process_time() - cpu, load


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", "--quick", dest="small", action="store_true")
    parser.add_argument("--full-grid", action="store_true", help="no successive halving")
    parser.add_argument("--data", type=Path, default=None, help="labelled CSV (.csv[.gz])")
    parser.add_argument("--text", default="Document", help="text column(s), comma-separated")
    parser.add_argument("--label", default="Topic_group", help="label column")
    args, _ignored = parser.parse_known_args(argv)

    path = data_path(args.data)
    if args.full_grid:
        # Halving starts at HALVING_FROM selection texts: out of reach, every candidate is
        # cross-validated on every fold, as before halving.
        model_selection.HALVING_FROM = sys.maxsize
    texts, labels, dropped = read_labelled_csv(path, args.text.split(","), args.label)
    if args.small and len(texts) > SMALL_SIZE:
        # The sample is itself a stratified split, so the class balance is kept.
        texts, _rest, labels, _rest_labels = stratified_split(
            texts, labels, 1 - SMALL_SIZE / len(texts), 0
        )
    train_x, test_x, train_y, test_y = stratified_split(texts, labels, 0.2, 0)
    log(f"{len(train_x)} training / {len(test_x)} test tickets, {len(set(labels))} classes")

    budget_x, budget_y = train_x, train_y
    if len(train_x) > BUDGET_SIZE:
        budget_x, _rest, budget_y, _rest_labels = stratified_split(
            train_x, train_y, 1 - BUDGET_SIZE / len(train_x), 1
        )
    log(f"training on {len(budget_x)} tickets (the 120 s budget)")
    _budget_model, budget_wall, budget_cpu, budget_load = timed_fit(budget_x, budget_y)
    log(f"  {budget_wall:.1f} s wall, {budget_cpu:.1f} s CPU")

    log(f"training on all {len(train_x)} training tickets")
    model, train_seconds, train_cpu_seconds, load_average = timed_fit(train_x, train_y)
    log(f"  {train_seconds:.1f} s wall, {train_cpu_seconds:.1f} s CPU")

    wall = time.perf_counter()
    predicted = [prediction.label for prediction in model.predict(test_x)]
    predict_seconds = time.perf_counter() - wall
    batches = []
    for start in range(0, min(len(test_x), 20 * BATCH), BATCH):
        wall = time.perf_counter()
        model.predict(test_x[start : start + BATCH])
        batches.append(1000 * (time.perf_counter() - wall) / BATCH)
    single = []
    for text in test_x[:SINGLE_PREDICTIONS]:
        wall = time.perf_counter()
        model.predict_one(text)
        single.append(1000 * (time.perf_counter() - wall))
    single.sort()

    with tempfile.TemporaryDirectory() as directory:
        file = Path(directory) / "model.bin"
        model.save(file, key=b"bench")
        model_bytes = file.stat().st_size
        wall = time.perf_counter()
        TextClassifier.load(file, key=b"bench")
        load_seconds = time.perf_counter() - wall

    log("training the baseline (TfidfVectorizer() + LinearSVC())")
    wall = time.perf_counter()
    baseline = baseline_model().fit(train_x, train_y)
    baseline_train_seconds = time.perf_counter() - wall
    baseline_predicted = baseline.predict(test_x)
    selection = model.selection_

    return {
        "name": "classifier",
        "data": str(path),
        "macro_f1": round(float(f1_score(test_y, predicted, average="macro")), 4),
        "accuracy": round(float(accuracy_score(test_y, predicted)), 4),
        "baseline_macro_f1": round(float(f1_score(test_y, baseline_predicted, average="macro")), 4),
        "baseline_accuracy": round(float(accuracy_score(test_y, baseline_predicted)), 4),
        "chosen": selection.get("chosen"),
        "cv_macro_f1": selection.get("cv_macro_f1"),
        "baseline_cv_macro_f1": selection.get("baseline_cv_macro_f1"),
        "cv_ece": selection.get("ece"),
        "cv_folds": selection.get("folds"),
        "n_selection": selection.get("n_selection"),
        "candidates": selection.get("candidates"),
        "pruned": selection.get("pruned"),
        "full_grid": args.full_grid,
        "train_seconds": round(train_seconds, 2),
        "train_cpu_seconds": round(train_cpu_seconds, 2),
        "budget_n_train": len(budget_x),
        "budget_train_seconds": round(budget_wall, 2),
        "budget_train_cpu_seconds": round(budget_cpu, 2),
        "budget_load_average_at_start": budget_load,
        "predict_ms_per_ticket": round(1000 * predict_seconds / len(test_x), 3),
        "predict_batch100_ms_per_ticket_p50": round(statistics.median(batches), 3),
        "predict_one_ms_p50": round(statistics.median(single), 3),
        "predict_one_ms_p99": round(single[int(0.99 * (len(single) - 1))], 3),
        "n_train": len(train_x),
        "n_test": len(test_x),
        "dropped_rows": dropped,
        "baseline_train_seconds": round(baseline_train_seconds, 2),
        "model_bytes": model_bytes,
        "load_seconds": round(load_seconds, 3),
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "small": args.small,
        "cpus": os.cpu_count(),
        "load_average_at_start": load_average,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
    }


if __name__ == "__main__":
    print(json.dumps(main()), flush=True)
