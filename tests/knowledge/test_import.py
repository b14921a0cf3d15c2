"""`knowledge_import` / `knowledge_export`: CSV and Markdown, idempotent; bad files refused."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from knowledge import selectors
from knowledge.choices import ArticleStatus
from knowledge.models import Article

HEADER = "external_id,title,symptom,steps,fix_script,fix_language,tags,system,language,audience\n"


def run(*args) -> str:
    out = io.StringIO()
    call_command("knowledge_import", *map(str, args), "--owner", "expert", stdout=out)
    return out.getvalue()


def test_csv_import_publishes_searchable_articles_and_is_idempotent(desk, tmp_path):
    source = tmp_path / "kb.csv"
    source.write_text(
        HEADER + 'kb-1,修改密码后邮箱被锁定,Outlook 反复要求密码,"1. 清除凭据",'
        '"cmdkey /delete:outlook & echo %USERNAME%",batch,"邮箱, 密码",trading,zh-hans,public\n'
        "kb-2,VPN drops hourly,,Reinstall,,,vpn,,en,internal\n"
        "kb-3,,no title,,,,,,,\n"
        "kb-4,Unknown system,,,,,,nosuch,,\n",
        encoding="utf-8",
    )
    output = run(source)
    assert "2 imported, 2 skipped." in output
    assert "skipped 4: title: This field is required." in output
    assert "skipped 5: unknown system “nosuch”" in output
    article = Article.objects.get(external_id="kb-1")
    assert (article.status, article.version, article.system, article.audience) == (
        ArticleStatus.PUBLISHED,
        1,
        desk.system,
        "public",
    )
    assert article.fix_script == "cmdkey /delete:outlook & echo %USERNAME%"
    assert sorted(article.tags.values_list("code", flat=True)) == ["密码", "邮箱"]
    assert [
        h.article.pk for h in selectors.article_search(viewer=desk.requester, query="密码")
    ] == [article.pk]
    assert article.versions.get().content["tags"] == ["密码", "邮箱"]
    again = run(source)
    assert "0 imported, 4 skipped." in again
    assert "skipped 2: already imported (external id kb-1)" in again
    assert Article.objects.count() == 2


def test_draft_option(desk, tmp_path):
    source = tmp_path / "kb.csv"
    source.write_text("title\nA draft\n", encoding="utf-8")
    call_command(
        "knowledge_import", str(source), "--draft", "--owner", "tier1", stdout=io.StringIO()
    )
    article = Article.objects.get()
    assert (article.status, article.owner) == (ArticleStatus.DRAFT, desk.tier1)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"name,body\nx,y\n", "it has no “title” column"),
        (b"title,colour\nx,y\n", "Unknown columns: colour."),
        ("title\n修改密码\n".encode("gbk"), "kb.csv is not UTF-8 (byte 6)"),
        (
            b"external_id,title\nsame,A\nother,B\nsame,C\n",
            "External id “same” appears twice (rows 2 and 4).",
        ),
    ],
)
def test_bad_files_import_nothing(desk, tmp_path, content, message):
    source = tmp_path / "kb.csv"
    source.write_bytes(content)
    with pytest.raises(CommandError) as error:
        run(source)
    assert str(error.value).startswith("Nothing was imported: ")
    assert message in str(error.value)
    assert not Article.objects.exists()


def test_markdown_folder_round_trip(desk, tmp_path):
    folder = tmp_path / "md"
    folder.mkdir()
    (folder / "vpn.md").write_text(
        "---\nexternal_id: md-1\ntitle: VPN: token expired\ntags: [vpn, token]\n"
        "language: en\naudience: public\n---\n\n## Symptom\n\nLogin fails.\n\n"
        "## 排查步骤\n\n1. Check the token.\n\n"
        "## Fix script\n\n```shell\nrm -f ~/.vpn/token; echo $HOME\n```\n",
        encoding="utf-8",
    )
    assert "1 imported, 0 skipped." in run(folder)
    article = Article.objects.get()
    assert (article.title, article.symptom, article.steps, article.fix_script) == (
        "VPN: token expired",
        "Login fails.",
        "1. Check the token.",
        "rm -f ~/.vpn/token; echo $HOME",
    )
    exported = tmp_path / "out.csv"
    call_command("knowledge_export", str(exported), stderr=io.StringIO())
    lines = exported.read_text(encoding="utf-8").splitlines()
    assert lines[0] == (
        "external_id,title,symptom,cause,steps,fix_script,fix_language,prevention,tags,"
        "scenario,system,category,language,audience"
    )
    out_md = tmp_path / "out-md"
    call_command("knowledge_export", str(out_md), "--markdown", stderr=io.StringIO())
    assert (
        (out_md / "md-1.md")
        .read_text(encoding="utf-8")
        .startswith("---\nexternal_id: md-1\ntitle: VPN: token expired\ntags: token, vpn\n")
    )
    # Importing the export again is idempotent.
    assert "0 imported, 1 skipped." in run(exported)


def test_markdown_without_front_matter_is_refused(desk, tmp_path):
    folder = tmp_path / "md"
    folder.mkdir()
    (folder / "a.md").write_text("# Just a heading\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"a\.md has no front matter"):
        run(folder)
