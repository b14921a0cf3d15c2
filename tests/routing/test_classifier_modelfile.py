"""Model files: numpy arrays and JSON only (no pickle), signed with an HMAC when given a key,
and every way a file can be broken ends in ClassifierLoadError."""

from __future__ import annotations

import io
import json
import pickle

import numpy as np
import pytest

from routing.classifier import FORMAT_VERSION, ClassifierLoadError, TextClassifier

from .test_classifier import EN_HELDOUT, EN_TRAIN, MIXED_HELDOUT, ZH_HELDOUT, ZH_TRAIN, flatten

KEY = b"k" * 32


@pytest.fixture(scope="module")
def model() -> TextClassifier:
    zh_texts, zh_labels = flatten(ZH_TRAIN)
    en_texts, en_labels = flatten(EN_TRAIN)
    return TextClassifier().fit(zh_texts + en_texts, zh_labels + en_labels)


def _archive(payload: bytes) -> dict[str, np.ndarray]:
    with np.load(io.BytesIO(payload), allow_pickle=False) as archive:
        return {key: archive[key] for key in archive.files}


def _payload(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_save_and_load_give_identical_predictions(model: TextClassifier, tmp_path) -> None:
    path = tmp_path / "model.bin"
    model.save(path, key=KEY)
    loaded = TextClassifier.load(path, key=KEY)
    texts = [text for text, _label in ZH_HELDOUT + EN_HELDOUT + MIXED_HELDOUT] + ["", "🔥"]
    assert loaded.predict(texts) == model.predict(texts)
    assert np.array_equal(loaded.predict_proba(texts), model.predict_proba(texts))
    assert loaded.classes_ == model.classes_
    assert loaded.config_ == model.config_
    assert loaded.selection_ == json.loads(json.dumps(model.selection_))
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_the_file_holds_no_pickled_object(model: TextClassifier) -> None:
    arrays = _archive(model.to_bytes())  # allow_pickle=False: any object array would raise
    assert all(array.dtype != object for array in arrays.values())
    header = json.loads(arrays["header"].tobytes().decode())
    assert header["format_version"] == FORMAT_VERSION
    assert header["classes"] == model.classes_
    assert header["config"] == model.config_


def test_a_changed_file_fails_its_signature(model: TextClassifier, tmp_path) -> None:
    path = tmp_path / "model.bin"
    model.save(path, key=KEY)
    content = bytearray(path.read_bytes())
    content[-100] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(ClassifierLoadError, match="not signed by this desk"):
        TextClassifier.load(path, key=KEY)


def test_another_key_or_no_signature_is_refused(model: TextClassifier, tmp_path) -> None:
    signed, unsigned = tmp_path / "signed.bin", tmp_path / "unsigned.bin"
    model.save(signed, key=KEY)
    model.save(unsigned)
    with pytest.raises(ClassifierLoadError, match="not signed by this desk"):
        TextClassifier.load(signed, key=b"another key")
    with pytest.raises(ClassifierLoadError, match="not signed by this desk"):
        TextClassifier.load(unsigned, key=KEY)
    assert TextClassifier.load(unsigned).classes_ == model.classes_  # tools without a key


def test_a_pickle_is_never_unpickled(tmp_path) -> None:
    """An old-style pickled model (or a planted one) is refused before anything is parsed."""

    class Boom:
        def __reduce__(self):
            return (pytest.fail, ("unpickled",))

    path = tmp_path / "model.bin"
    path.write_bytes(pickle.dumps(Boom()))
    with pytest.raises(ClassifierLoadError, match="not a ticket classifier"):
        TextClassifier.load(path)


def test_an_object_array_inside_the_archive_is_refused(model: TextClassifier, tmp_path) -> None:
    arrays = _archive(model.to_bytes())
    arrays["member/0/coef"] = np.array([{"a": 1}], dtype=object)
    path = tmp_path / "model.bin"
    path.write_bytes(b"SDTC2\n" + bytes(32) + _payload(arrays))
    with pytest.raises(ClassifierLoadError, match="corrupt"):
        TextClassifier.load(path)


def test_weights_that_do_not_fit_the_features_are_refused(model: TextClassifier, tmp_path) -> None:
    arrays = _archive(model.to_bytes())
    arrays["member/0/coef"] = arrays["member/0/coef"][:, :5]
    path = tmp_path / "model.bin"
    path.write_bytes(b"SDTC2\n" + bytes(32) + _payload(arrays))
    with pytest.raises(ClassifierLoadError, match="do not fit"):
        TextClassifier.load(path)


def test_other_format_version_raises_load_error(model: TextClassifier, tmp_path) -> None:
    arrays = _archive(model.to_bytes())
    header = json.loads(arrays["header"].tobytes().decode())
    header["format_version"] = FORMAT_VERSION + 1
    arrays["header"] = np.frombuffer(json.dumps(header).encode(), dtype=np.uint8)
    path = tmp_path / "model.bin"
    path.write_bytes(b"SDTC2\n" + bytes(32) + _payload(arrays))
    with pytest.raises(ClassifierLoadError, match="format version"):
        TextClassifier.load(path)


def test_saving_an_untrained_model_fails(tmp_path) -> None:
    with pytest.raises(RuntimeError, match="not trained"):
        TextClassifier().save(tmp_path / "model.bin")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "not a ticket classifier"),
        (b"not a model at all", "not a ticket classifier"),
        (b"SDTC2\n" + bytes(32) + b"PK\x03\x04 truncated zip", "corrupt"),
        (b"SDTC2\n" + bytes(32), "corrupt"),
    ],
)
def test_a_corrupt_file_raises_load_error(tmp_path, content: bytes, message: str) -> None:
    path = tmp_path / "model.bin"
    path.write_bytes(content)
    with pytest.raises(ClassifierLoadError, match=message):
        TextClassifier.load(path)


def test_a_truncated_file_raises_load_error(model: TextClassifier, tmp_path) -> None:
    path = tmp_path / "model.bin"
    model.save(path)
    path.write_bytes(path.read_bytes()[:-500])
    with pytest.raises(ClassifierLoadError, match="corrupt"):
        TextClassifier.load(path)


def test_a_missing_file_raises_load_error(tmp_path) -> None:
    with pytest.raises(ClassifierLoadError, match="does not exist"):
        TextClassifier.load(tmp_path / "nope.bin")


def test_a_directory_raises_load_error(tmp_path) -> None:
    with pytest.raises(ClassifierLoadError):
        TextClassifier.load(tmp_path)
