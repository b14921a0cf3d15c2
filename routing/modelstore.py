"""Where classifier versions live: files under `SERVICEDESK["CLASSIFIER_MODEL_DIR"]`, loaded
once per process and kept while the file is unchanged.

The text model itself is `routing.classifier.TextClassifier`; this module only finds, loads,
caches and writes its files, and turns every way a file can be broken into
`ClassifierLoadError`. Model files hold JSON and numpy arrays only (never pickle), and every
file is signed with an HMAC keyed by the desk's SECRET_KEY: a file changed or planted by
someone else is refused before it is parsed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings

from tickets import reactions

from .models import ClassifierModel

if TYPE_CHECKING:
    from .classifier import Prediction, TextClassifier

# (model id) → ((path, mtime, size), classifier). Reloaded when the file changes on disk.
_cache: dict[int, tuple[tuple[str, int, int], TextClassifier]] = {}
_lock = threading.Lock()
CACHE_SIZE = 8


def model_dir() -> Path:
    return Path(settings.SERVICEDESK["CLASSIFIER_MODEL_DIR"])


def signing_key() -> bytes:
    """The HMAC key of model files, derived from SECRET_KEY (a new secret key means the
    models must be retrained: their files no longer verify)."""
    return hashlib.sha256(
        b"servicedesk.routing.model-file\x00" + settings.SECRET_KEY.encode()
    ).digest()


def active_models() -> dict[str, ClassifierModel]:
    """The active version of each target, in one query (once per intake batch)."""
    return reactions.memo(
        "routing.active_models",
        lambda: {row.target: row for row in ClassifierModel.objects.filter(is_active=True)},
    )


def load(row: ClassifierModel) -> TextClassifier:
    """The classifier of a model version, from the cache while its file is unchanged.

    Raises ClassifierLoadError for a missing, unreadable or corrupt file.
    """
    # Imported here: the model code (scikit-learn, jieba) loads only when a model is used.
    from .classifier import ClassifierLoadError, TextClassifier

    path = row.absolute_path
    try:
        stat = os.stat(path)
    except OSError as exc:
        raise ClassifierLoadError(
            f"model file {row.file_path} is missing ({exc.strerror})"
        ) from exc
    stamp = (path, stat.st_mtime_ns, stat.st_size)
    cached = _cache.get(row.pk)
    if cached is not None and cached[0] == stamp:
        return cached[1]
    try:
        classifier = TextClassifier.load(path, key=signing_key())
    except ClassifierLoadError:
        raise
    except Exception as exc:  # whatever a damaged file makes the loader raise
        raise ClassifierLoadError(f"model file {row.file_path} is unreadable: {exc}") from exc
    with _lock:
        if len(_cache) >= CACHE_SIZE:
            _cache.clear()
        _cache[row.pk] = (stamp, classifier)
    return classifier


def predict(row: ClassifierModel, text: str) -> Prediction:
    return load(row).predict_one(text)


def predict_many(row: ClassifierModel, texts: list[str]) -> list[Prediction]:
    """One prediction call for a whole batch (the vectorisers and the sparse products run
    once for all texts: the per-ticket cost of a batch is a fraction of one-by-one calls)."""
    return load(row).predict(texts)


def predict_detailed(row: ClassifierModel, texts: list[str]):
    """(predictions, class probabilities in `load(row).classes_` order) from one pass."""
    return load(row).predict_detailed(texts)


def save(classifier: TextClassifier, file_name: str) -> str:
    """Write the classifier under the model directory (`TextClassifier.save` writes a
    temporary file and renames it, so a reader never sees half a file); returns the path
    relative to the directory."""
    directory = model_dir()
    directory.mkdir(parents=True, exist_ok=True)
    write(classifier, directory / file_name)
    return file_name


def write(classifier: TextClassifier, path: str | os.PathLike[str]) -> None:
    """Write a signed model file at `path` (tests and tools that place files themselves)."""
    classifier.save(path, key=signing_key())


def delete_file(row: ClassifierModel) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.remove(row.absolute_path)
    _cache.pop(row.pk, None)


def clear_cache() -> None:
    _cache.clear()
