"""Attachments: size and type limits, safe names, stored outside the static root, served only
to people who may see them (internal files never to the requester)."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.factories import TicketFactory, client_for
from tickets.choices import EventKind
from tickets.models import Attachment, TicketEvent
from tickets.services import attachment_clean_filename

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n%..."


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def upload(client, ticket, name, content, **extra):
    return client.post(
        f"/api/tickets/{ticket.pk}/attachments/",
        {"file": SimpleUploadedFile(name, content, content_type="image/png"), **extra},
        format="multipart",
    )


def test_requester_attaches_a_screenshot(desk, media_root, settings):
    ticket = TicketFactory(desk).new()
    response = upload(client_for(desk.requester), ticket, "../../etc/screen shot.png", PNG)
    assert response.status_code == 201, response.json()
    body = response.json()
    attachment = Attachment.objects.get(pk=body["id"])
    assert (body["filename"], body["content_type"], body["size"], body["is_internal"]) == (
        "screen_shot.png",
        "image/png",
        len(PNG),
        False,
    )
    assert body["download_url"] == f"http://testserver/api/attachments/{attachment.pk}/download/"
    # Stored under MEDIA_ROOT by a random key, never by the name the client sent.
    stored = Path(attachment.file.path)
    assert stored.is_relative_to(media_root)
    assert not stored.is_relative_to(Path(settings.STATIC_ROOT))
    assert stored.name == attachment.storage_key and len(attachment.storage_key) == 32
    assert stored.read_bytes() == PNG
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.ATTACHMENT_ADDED)
    assert (event.is_public, event.actor, event.data["attachment_id"]) == (
        True,
        desk.requester,
        attachment.pk,
    )


@pytest.mark.parametrize(
    ("name", "clean"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd.txt", "passwd.txt"),
        ("C:\\Users\\me\\my file.log", "my_file.log"),
        ("<script>alert(1)</script>.txt", "script.txt"),
        ("<img src=x onerror=alert(1)>.txt", "img_srcx_onerroralert1.txt"),
        ("报告 2026.pdf", "报告_2026.pdf"),
        ("a\x00b\x1f.txt", "ab.txt"),
        ("...hidden.txt", "hidden.txt"),
        ("..", "attachment"),
        ("", "attachment"),
        ("x" * 300 + ".pdf", "x" * 116 + ".pdf"),
    ],
)
def test_file_names_are_sanitised(name, clean):
    assert attachment_clean_filename(name) == clean


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("tool.exe", b"MZ\x90\x00"),
        ("page.html", b"<html><script>alert(1)</script>"),
        ("logo.svg", b"<svg onload=alert(1)>"),
        ("noextension", b"hello"),
        ("fake.png", b"<html>not a png</html>"),
        ("fake.pdf", b"MZ\x90\x00"),
        ("binary.txt", b"text\x00with NUL"),
        ("fake.docx", b"plain text"),
    ],
)
def test_types_outside_the_allow_list_or_with_wrong_contents_are_refused(desk, name, content):
    ticket = TicketFactory(desk).new()
    response = upload(client_for(desk.requester), ticket, name, content)
    assert response.status_code == 400
    assert list(response.json()) == ["file"]
    assert not Attachment.objects.exists()


def test_accepted_types(desk):
    ticket = TicketFactory(desk).new()
    client = client_for(desk.requester)
    for name, content, content_type in [
        ("error.log", "行 1: 错误\n".encode(), "text/plain"),
        ("spec.pdf", PDF, "application/pdf"),
        ("logs.zip", b"PK\x03\x04rest", "application/zip"),
        (
            "sheet.xlsx",
            b"PK\x03\x04rest",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        ("photo.JPG", b"\xff\xd8\xff\xe0rest", "image/jpeg"),
    ]:
        response = upload(client, ticket, name, content)
        assert response.status_code == 201, (name, response.json())
        assert response.json()["content_type"] == content_type


def test_size_limit_and_empty_files(desk, settings):
    settings.ATTACHMENT_MAX_BYTES = 100
    ticket = TicketFactory(desk).new()
    client = client_for(desk.requester)
    too_big = upload(client, ticket, "big.txt", b"x" * 101)
    assert too_big.status_code == 400
    assert too_big.json() == {"file": ["The file is too large: at most 100 bytes (this has 101)."]}
    assert upload(client, ticket, "limit.txt", b"x" * 100).status_code == 201
    empty = upload(client, ticket, "empty.txt", b"")
    assert empty.status_code == 400 and empty.json() == {"file": ["The file is empty."]}
    missing = client.post(f"/api/tickets/{ticket.pk}/attachments/", {}, format="multipart")
    assert missing.status_code == 400 and list(missing.json()) == ["file"]


def test_internal_attachments_never_reach_the_requester(desk):
    ticket = TicketFactory(desk).in_progress()
    agent, requester = client_for(desk.tier1), client_for(desk.requester)
    internal = upload(agent, ticket, "server.log", b"secret config", is_internal=True)
    assert internal.status_code == 201 and internal.json()["is_internal"] is True
    public = upload(agent, ticket, "howto.pdf", PDF)
    internal_id, public_id = internal.json()["id"], public.json()["id"]

    def names(client):
        return [a["filename"] for a in client.get(f"/api/tickets/{ticket.pk}/attachments/").json()]

    assert names(agent) == ["server.log", "howto.pdf"]
    assert names(requester) == ["howto.pdf"]
    assert requester.get(f"/api/attachments/{internal_id}/download/").status_code == 404
    assert requester.get(f"/api/attachments/{public_id}/download/").status_code == 200
    assert agent.get(f"/api/attachments/{internal_id}/download/").status_code == 200
    timeline = requester.get(f"/api/tickets/{ticket.pk}/timeline/").json()
    assert [e["message"] for e in timeline if e["kind"] == EventKind.ATTACHMENT_ADDED] == [
        "howto.pdf"
    ]
    refused = upload(requester, ticket, "mine.txt", b"x", is_internal=True)
    assert refused.status_code == 403


def test_download_is_an_attachment_with_the_stored_type(desk):
    ticket = TicketFactory(desk).new()
    client = client_for(desk.requester)
    attachment_id = upload(client, ticket, "报告.pdf", PDF).json()["id"]
    response = client.get(f"/api/attachments/{attachment_id}/download/", HTTP_ACCEPT="*/*")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == (
        "attachment; filename*=utf-8''%E6%8A%A5%E5%91%8A.pdf"
    )
    assert b"".join(response.streaming_content) == PDF
    # Whatever the client says it accepts, the file comes as it is.
    assert (
        client.get(
            f"/api/attachments/{attachment_id}/download/", HTTP_ACCEPT="application/pdf"
        ).status_code
        == 200
    )


def test_other_peoples_attachments_are_404(desk):
    ticket = TicketFactory(desk).new()
    attachment_id = upload(client_for(desk.requester), ticket, "a.txt", b"mine").json()["id"]
    other = client_for(desk.other_requester)
    assert other.get(f"/api/attachments/{attachment_id}/download/").status_code == 404
    assert other.get(f"/api/tickets/{ticket.pk}/attachments/").status_code == 404
    assert upload(other, ticket, "b.txt", b"x").status_code == 404
    for weird in ["abc", "0", "-1", str(10**30)]:
        assert other.get(f"/api/attachments/{weird}/download/").status_code == 404


def test_web_download_checks_permission(desk):
    ticket = TicketFactory(desk).in_progress()
    agent = client_for(desk.tier1)
    internal_id = upload(agent, ticket, "note.txt", b"internal", is_internal=True).json()["id"]
    public_id = upload(agent, ticket, "fix.txt", b"public").json()["id"]
    anonymous = Client()
    login_redirect = anonymous.get(f"/tickets/attachments/{public_id}/")
    assert login_redirect.status_code == 302
    assert login_redirect["Location"].startswith("/accounts/login/")
    web = Client()
    web.force_login(desk.requester)
    response = web.get(f"/tickets/attachments/{public_id}/")
    assert response.status_code == 200
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == 'attachment; filename="fix.txt"'
    assert b"".join(response.streaming_content) == b"public"
    assert web.get(f"/tickets/attachments/{internal_id}/").status_code == 404
    assert web.get(f"/tickets/attachments/{10**30}/").status_code == 404
    stranger = Client()
    stranger.force_login(desk.other_requester)
    assert stranger.get(f"/tickets/attachments/{public_id}/").status_code == 404


def test_a_missing_file_on_disk_is_404_not_500(desk):
    ticket = TicketFactory(desk).new()
    client = client_for(desk.requester)
    attachment = Attachment.objects.get(pk=upload(client, ticket, "a.txt", b"x").json()["id"])
    Path(attachment.file.path).unlink()
    assert client.get(f"/api/attachments/{attachment.pk}/download/").status_code == 404
