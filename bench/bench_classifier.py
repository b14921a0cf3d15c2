"""Benchmark of the ticket text classifier against a plain TF-IDF + LinearSVC baseline.

    python bench/bench_classifier.py [--quick]

Data: ../shared/data/it_tickets_en.csv.gz (47,837 English IT tickets, columns Document and
Topic_group), stratified 80/20 split with seed 0, the reference split of the data's README.
Both models are trained in the same run on the same split. Progress goes to stderr; the last
line of stdout is one JSON object. `--quick` uses a stratified 10,000-ticket sample for a
smoke run; other arguments (run_all passes its own) are ignored. Needs no Django settings.
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

from routing.classifier import TextClassifier  # noqa: E402
from routing.csvdata import read_labelled_csv, stratified_split  # noqa: E402
from routing.evaluation import baseline_model  # noqa: E402

# The labelled data: `--data`, else $BENCH_CLASSIFIER_DATA, else ../shared next to the checkout.
DATA = Path(
    os.environ.get("BENCH_CLASSIFIER_DATA")
    or Path(__file__).resolve().parents[2] / "shared/data/it_tickets_en.csv.gz"
)
QUICK_SIZE = 10_000
SINGLE_PREDICTIONS = 300


def log(message: str) -> None:
    print(f"bench_classifier: {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", "--small", action="store_true", help="10,000-ticket run")
    parser.add_argument("--data", type=Path, default=DATA, help="labelled CSV (.csv[.gz])")
    args, _ignored = parser.parse_known_args(argv)
    if not args.data.is_file():
        parser.error(
            f"no labelled data at {args.data}: pass --data PATH or set BENCH_CLASSIFIER_DATA "
            "(the CSV.gz of IT tickets with the columns Document and Topic_group)"
        )

    texts, labels, dropped = read_labelled_csv(args.data, ["Document"], "Topic_group")
    if args.quick:
        # The sample is itself a stratified split, so the class balance is kept.
        texts, _rest, labels, _rest_labels = stratified_split(
            texts, labels, 1 - QUICK_SIZE / len(texts), 0
        )
    train_x, test_x, train_y, test_y = stratified_split(texts, labels, 0.2, 0)
    log(f"{len(train_x)} training / {len(test_x)} test tickets, {len(set(labels))} classes")

    load_average = [round(x, 2) for x in os.getloadavg()]
    wall, cpu = time.perf_counter(), time.process_time()
    model = TextClassifier().fit(train_x, train_y)
    train_seconds = time.perf_counter() - wall
    train_cpu_seconds = time.process_time() - cpu
    log(f"trained in {train_seconds:.1f} s ({train_cpu_seconds:.1f} s CPU)")

    wall = time.perf_counter()
    predicted = [prediction.label for prediction in model.predict(test_x)]
    predict_seconds = time.perf_counter() - wall
    single = []
    for text in test_x[:SINGLE_PREDICTIONS]:
        wall = time.perf_counter()
        model.predict_one(text)
        single.append(1000 * (time.perf_counter() - wall))
    single.sort()

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "model.bin"
        model.save(path)
        model_bytes = path.stat().st_size
        wall = time.perf_counter()
        TextClassifier.load(path)
        load_seconds = time.perf_counter() - wall

    log("training the baseline (TfidfVectorizer() + LinearSVC())")
    wall = time.perf_counter()
    baseline = baseline_model().fit(train_x, train_y)
    baseline_train_seconds = time.perf_counter() - wall
    baseline_predicted = baseline.predict(test_x)

    return {
        "name": "classifier",
        "macro_f1": round(float(f1_score(test_y, predicted, average="macro")), 4),
        "accuracy": round(float(accuracy_score(test_y, predicted)), 4),
        "baseline_macro_f1": round(float(f1_score(test_y, baseline_predicted, average="macro")), 4),
        "baseline_accuracy": round(float(accuracy_score(test_y, baseline_predicted)), 4),
        "train_seconds": round(train_seconds, 2),
        "predict_ms_per_ticket": round(1000 * predict_seconds / len(test_x), 3),
        "n_train": len(train_x),
        "n_test": len(test_x),
        "dropped_rows": dropped,
        "train_cpu_seconds": round(train_cpu_seconds, 2),
        "predict_one_ms_p50": round(statistics.median(single), 3),
        "predict_one_ms_p99": round(single[int(0.99 * (len(single) - 1))], 3),
        "baseline_train_seconds": round(baseline_train_seconds, 2),
        "model_bytes": model_bytes,
        "load_seconds": round(load_seconds, 3),
        "temperature": round(model.temperature_, 4),
        # ru_maxrss is in KiB on Linux.
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "quick": args.quick,
        "cpus": os.cpu_count(),
        "load_average_at_start": load_average,
    }


if __name__ == "__main__":
    print(json.dumps(main()), flush=True)
