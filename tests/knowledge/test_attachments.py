"""Screenshots on articles: image types only, contents checked, downloads scoped."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from knowledge.choices import Audience
from knowledge.models import ArticleAttachment

from .helpers import draft, published

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_attach_a_screenshot_and_download_it(client, desk):
    article = draft(desk.tier1, audience=Audience.INTERNAL)
    client.force_login(desk.tier1)
    upload = SimpleUploadedFile("../../etc/屏幕 截图.png", PNG, content_type="image/png")
    client.post(reverse("knowledge:attachment_upload", args=[article.pk]), {"file": upload})
    attachment = ArticleAttachment.objects.get()
    assert (attachment.filename, attachment.content_type, attachment.size) == (
        "屏幕_截图.png",
        "image/png",
        len(PNG),
    )
    response = client.get(reverse("knowledge:attachment", args=[attachment.pk]))
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PNG
    client.force_login(desk.requester)
    assert client.get(reverse("knowledge:attachment", args=[attachment.pk])).status_code == 404


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("tool.exe", b"MZ\x90\x00", "Attach screenshots: PNG, JPEG, GIF or WebP."),
        (
            "fake.png",
            b"<script>alert(1)</script>",
            "The contents of the file do not match its type.",
        ),
        ("empty.png", b"", "The file is empty."),
    ],
)
def test_other_files_are_refused(client, desk, name, content, message):
    article = draft(desk.tier1)
    client.force_login(desk.tier1)
    response = client.post(
        reverse("knowledge:attachment_upload", args=[article.pk]),
        {"file": SimpleUploadedFile(name, content)},
        follow=True,
    )
    assert message in [str(m) for m in response.context["messages"]]
    assert not ArticleAttachment.objects.exists()


def test_only_writers_attach(client, desk):
    article = published(desk.tier1, desk.expert)
    client.force_login(desk.requester)
    response = client.post(
        reverse("knowledge:attachment_upload", args=[article.pk]),
        {"file": SimpleUploadedFile("a.png", PNG)},
    )
    assert response.status_code == 403
    assert not ArticleAttachment.objects.exists()
