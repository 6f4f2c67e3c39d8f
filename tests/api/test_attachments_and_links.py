"""Files and linked cases through the API: multipart upload with a 400 and field messages for what
is refused, scoped and audited downloads, links listed from both ends."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from departments.models import AuditEntry
from processes.models import Attachment, Case
from tests.api.conftest import assert_error

PDF = b"%PDF-1.7\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.BATON_ATTACHMENT_MAX_BYTES = 1_000
    settings.BATON_ATTACHMENT_CASE_QUOTA_BYTES = 1_500
    return tmp_path


def files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()]


def url(case, suffix: str = "") -> str:
    return f"/api/v1/cases/{case.reference}/attachments/{suffix}"


def test_an_upload_returns_the_files_facts_and_the_list_shows_it(api, story):
    case = story.open()
    client = api("call_center_agent")

    response = client.post(url(case), {"file": SimpleUploadedFile("screenshot.pdf", PNG)}, format="multipart")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["content_type"] == "image/png"  # what the bytes are, whatever the name says
    assert body["original_name"] == "screenshot.pdf" and body["scan_status"] == "not_scanned"
    assert [a["id"] for a in client.get(url(case)).json()] == [body["id"]]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (PDF + b"0" * 1_000, "attachment_too_large"),
        (b"MZ\x90\x00" + b"\x00" * 60, "attachment_type_refused"),
    ],
)
def test_a_refused_upload_is_a_400_with_the_files_message_and_stores_nothing(api, story, media, data, code):
    case = story.open()

    response = api("call_center_agent").post(
        url(case), {"file": SimpleUploadedFile("x.pdf", data)}, format="multipart"
    )

    body = assert_error(response, 400, code)
    assert body["fields"]["file"]
    assert not Attachment.objects.exists() and files(media) == []


def test_over_the_quota_is_a_400_and_the_file_is_not_kept(api, story, media):
    case = story.open()
    client = api("call_center_agent")
    assert client.post(url(case), {"file": SimpleUploadedFile("a.pdf", PDF + b"0" * 900)}).status_code == 201

    response = client.post(url(case), {"file": SimpleUploadedFile("b.pdf", PDF + b"0" * 900)})

    assert_error(response, 400, "attachment_over_quota")
    assert Attachment.objects.count() == 1 and len(files(media)) == 1


def test_a_json_body_is_not_an_upload(api, story):
    case = story.open()
    response = api("call_center_agent").post(url(case), {"file": "x"}, format="json")
    assert_error(response, 415)


def test_a_download_is_the_file_with_safe_headers_and_an_audit_entry(api, story):
    case = story.open()
    client = api("call_center_agent")
    found = client.post(url(case), {"file": SimpleUploadedFile("账单.pdf", PDF)}).json()

    response = client.get(url(case, f"{found['id']}/"))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    entry = AuditEntry.objects.get(kind=AuditEntry.Kind.ATTACHMENT_DOWNLOAD)
    assert entry.detail["via"] == "api" and entry.username == "call_center_agent"


def test_outside_the_scope_the_file_and_its_list_are_404(api, story):
    case = story.open()
    found = api("call_center_agent").post(url(case), {"file": SimpleUploadedFile("a.pdf", PDF)}).json()
    risk = api("risk_agent")

    assert_error(risk.get(url(case)), 404)
    assert risk.get(url(case, f"{found['id']}/")).status_code == 404
    assert not AuditEntry.objects.filter(kind=AuditEntry.Kind.ATTACHMENT_DOWNLOAD).exists()


def test_links_are_listed_from_both_ends_and_a_duplicate_is_closed(api, story):
    primary, duplicate = story.open(), story.open()
    client = api("call_center_agent")

    response = client.post(
        f"/api/v1/cases/{duplicate.reference}/links/",
        {"kind": "duplicate_of", "target": primary.reference},
        format="json",
    )

    assert response.status_code == 201, response.content
    assert response.json()[0]["role"] == "duplicate_of"
    assert Case.objects.get(pk=duplicate.pk).status == Case.Status.CLOSED
    listed = client.get(f"/api/v1/cases/{primary.reference}/links/").json()
    assert [(x["role"], x["case"]) for x in listed] == [("has_duplicate", duplicate.reference)]
    again = client.post(
        f"/api/v1/cases/{duplicate.reference}/links/",
        {"kind": "duplicate_of", "target": primary.reference},
        format="json",
    )
    assert_error(again, 409, "case_not_open")
    bad = client.post(
        f"/api/v1/cases/{primary.reference}/links/", {"kind": "sibling_of", "target": "x"}, format="json"
    )
    assert_error(bad, 400)
