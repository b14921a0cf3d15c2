"""Reading labelled CSV exports and splitting them: no database needed."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path

import pytest
from sklearn.model_selection import train_test_split

from routing.csvdata import decode, read_labelled_csv, stratified_split


def csv_text(rows: list[list[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue()


ROWS = [
    ["标题", "描述", "类型"],
    ["电脑无法开机", "按电源键没反应", "故障"],
    ["忘记密码", "请重置OA密码", "密码重置"],
]


def test_utf8_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + csv_text(ROWS).encode("utf-8"))
    texts, labels, dropped = read_labelled_csv(path, ["标题"], "类型")
    assert texts == ["电脑无法开机", "忘记密码"]
    assert labels == ["故障", "密码重置"]
    assert dropped == 0


def test_utf8_without_bom(tmp_path: Path) -> None:
    path = tmp_path / "plain.csv"
    path.write_text(csv_text(ROWS), encoding="utf-8")
    assert read_labelled_csv(path, ["标题"], "类型")[1] == ["故障", "密码重置"]


def test_gbk(tmp_path: Path) -> None:
    path = tmp_path / "excel.csv"
    path.write_bytes(csv_text(ROWS).encode("gbk"))
    texts, labels, dropped = read_labelled_csv(path, ["标题", "描述"], "类型")
    assert texts == ["电脑无法开机\n按电源键没反应", "忘记密码\n请重置OA密码"]
    assert labels == ["故障", "密码重置"]
    assert dropped == 0


def test_gzip_is_recognised_by_content(tmp_path: Path) -> None:
    path = tmp_path / "data.csv.gz"
    path.write_bytes(gzip.compress(csv_text(ROWS).encode("utf-8")))
    assert read_labelled_csv(path, ["描述"], "类型") == (
        ["按电源键没反应", "请重置OA密码"],
        ["故障", "密码重置"],
        0,
    )


def test_multi_line_quoted_fields_and_commas(tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    path.write_text(
        'subject,body,team\n"VPN, again","line one\r\nline two\n""quoted""",network\n'
        'printer,"jam\n\nstill jammed",hardware\n',
        encoding="utf-8",
        newline="",
    )
    texts, labels, dropped = read_labelled_csv(path, ["subject", "body"], "team")
    assert texts == ['VPN, again\nline one\r\nline two\n"quoted"', "printer\njam\n\nstill jammed"]
    assert labels == ["network", "hardware"]
    assert dropped == 0


def test_empty_labels_are_dropped_and_counted(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    rows = [
        ["text", "label"],
        ["a printer jam", "hardware"],
        ["no label here", ""],
        ["only spaces", "   "],
        ["", "hardware"],  # an empty text is kept: the classifier copes with it
        ["short row"],  # the label cell is missing altogether
        [" padded text ", " access "],
    ]
    path.write_text(csv_text(rows) + "\r\n\r\n", encoding="utf-8")  # blank lines are ignored
    texts, labels, dropped = read_labelled_csv(path, ["text"], "label")
    assert texts == ["a printer jam", "", "padded text"]
    assert labels == ["hardware", "hardware", "access"]
    assert dropped == 3


def test_very_long_field(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    long_text = "日志" * 150_000  # 300,000 characters, over csv's default 131,072 limit
    path.write_text(csv_text([["text", "label"], [long_text, "fault"]]), encoding="utf-8")
    texts, labels, _dropped = read_labelled_csv(path, ["text"], "label")
    assert texts == [long_text]
    assert labels == ["fault"]


def test_missing_column_names_the_available_ones(tmp_path: Path) -> None:
    path = tmp_path / "cols.csv"
    path.write_text(csv_text(ROWS), encoding="utf-8")
    with pytest.raises(ValueError, match=r"'正文'.*available columns: '标题', '描述', '类型'"):
        read_labelled_csv(path, ["正文"], "类型")
    with pytest.raises(ValueError, match=r"'label' not in"):
        read_labelled_csv(path, ["标题"], "label")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="file not found"):
        read_labelled_csv(tmp_path / "nope.csv", ["text"], "label")


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match="empty"):
        read_labelled_csv(path, ["text"], "label")


def test_undecodable_bytes() -> None:
    assert decode("密码".encode("gb18030")) == "密码"
    with pytest.raises(ValueError, match="neither UTF-8 nor GBK"):
        decode(b"\xff\xff\xff")


def test_split_is_train_test_split_when_every_label_has_two_examples() -> None:
    texts = [f"text {i}" for i in range(40)]
    labels = ["a"] * 20 + ["b"] * 12 + ["c"] * 8
    expected = train_test_split(texts, labels, test_size=0.25, random_state=7, stratify=labels)
    assert stratified_split(texts, labels, 0.25, 7) == tuple(expected)


def test_split_keeps_single_examples_in_training() -> None:
    texts = [f"text {i}" for i in range(21)]
    labels = ["a"] * 10 + ["b"] * 10 + ["lonely"]
    train_texts, test_texts, train_labels, test_labels = stratified_split(texts, labels, 0.2, 0)
    assert "lonely" in train_labels
    assert "lonely" not in test_labels
    assert sorted(test_labels) == ["a", "a", "b", "b"]
    assert sorted(train_texts + test_texts) == sorted(texts)


def test_split_falls_back_when_the_test_share_is_tiny() -> None:
    texts = [f"text {i}" for i in range(10)]
    labels = ["a", "b", "c", "d", "e"] * 2
    train_texts, test_texts, _train_labels, test_labels = stratified_split(texts, labels, 0.1, 0)
    assert len(test_texts) == len(test_labels) == 1
    assert len(train_texts) == 9


def test_split_needs_a_label_with_two_examples() -> None:
    with pytest.raises(ValueError, match="no label has two examples"):
        stratified_split(["x", "y"], ["a", "b"], 0.5, 0)
