"""Files on a case: what is refused (too large, the wrong content whatever its name, over the
case's quota) stores nothing; what is accepted is on the timeline; downloads are scoped, audited and
served so that a browser saves them instead of running them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.errors import InvalidInput
from departments.models import AuditEntry
from processes import attachments
from processes.models import Attachment, CaseEvent
from tests.processes_admin.conftest import case_url, last_message, user

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.BATON_ATTACHMENT_MAX_BYTES = 10_000
    settings.BATON_ATTACHMENT_CASE_QUOTA_BYTES = 25_000
    return tmp_path / "media"


def stored_files(media) -> list:
    return [p for p in media.rglob("*") if p.is_file()] if media.exists() else []


def attach_url(case) -> str:
    return f"/admin/processes/case/{case.pk}/attachments/add/"


def upload(client, case, name: str, data: bytes):
    return client.post(attach_url(case), {"file": SimpleUploadedFile(name, data)}, HTTP_ACCEPT_LANGUAGE="en")


def test_a_pdf_is_stored_with_its_facts_and_is_a_timeline_event(cases, login, media):
    case = cases.open()
    client = login("call_center_agent")

    response = upload(client, case, "statement.pdf", PDF)

    assert response.status_code == 302
    attachment = Attachment.objects.get(case=case)
    assert (attachment.original_name, attachment.size, attachment.content_type) == (
        "statement.pdf",
        len(PDF),
        "application/pdf",
    )
    assert attachment.scan_status == Attachment.Scan.NOT_SCANNED
    assert len(attachment.sha256) == 64
    assert len(stored_files(media)) == 1
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.ATTACHMENT_ADDED)
    assert event.payload["name"] == "statement.pdf"
    page = client.get(case_url(case), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "statement.pdf" in page and "File added: statement.pdf" in page


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("big.pdf", PDF + b"0" * 10_000, "The file is too large."),
        ("invoice.pdf", EXE, "the file's content is checked, not its name"),
        ("empty.pdf", b"", "The submitted file is empty."),
    ],
)
def test_a_bad_upload_is_refused_with_a_clear_message_and_stores_nothing(
    cases, login, media, name, data, message
):
    case = cases.open()
    client = login("call_center_agent")

    response = upload(client, case, name, data)

    assert response.status_code == 302
    assert message in last_message(response).message
    assert not Attachment.objects.filter(case=case).exists()
    assert not CaseEvent.objects.filter(case=case, kind=CaseEvent.Kind.ATTACHMENT_ADDED).exists()
    assert stored_files(media) == []


def test_an_upload_over_the_cases_quota_is_refused_and_its_bytes_are_deleted(cases, login, media):
    case = cases.open()
    client = login("call_center_agent")
    for i in range(2):
        assert upload(client, case, f"part{i}.pdf", PDF + b"0" * 9_000).status_code == 302
    assert Attachment.objects.filter(case=case).count() == 2

    response = upload(client, case, "third.pdf", PDF + b"0" * 9_000)

    assert "exceed its quota" in last_message(response).message
    assert Attachment.objects.filter(case=case).count() == 2
    assert len(stored_files(media)) == 2  # the third file was written, then deleted with the rollback


def test_the_service_deletes_the_stored_file_when_the_transaction_fails(cases, media, monkeypatch):
    case = cases.open()

    def broken_flush(self):
        raise RuntimeError("database gone")

    monkeypatch.setattr("processes.services.base._Change.flush", broken_flush)
    with pytest.raises(RuntimeError):
        attachments.attachment_add(case=case, actor=user("call_center_agent"), file=PDF, name="a.pdf")

    assert not Attachment.objects.exists()
    assert stored_files(media) == []


def test_the_content_type_comes_from_the_bytes():
    sniff = attachments.sniff_content_type
    assert sniff(PDF) == "application/pdf"
    assert sniff(b"\x89PNG\r\n\x1a\n" + b"0" * 8) == "image/png"
    assert sniff(b"\xff\xd8\xff\xe0" + b"0" * 8) == "image/jpeg"
    assert sniff(b"GIF89a" + b"0" * 8) == "image/gif"
    assert sniff(b"RIFF\x00\x00\x00\x00WEBPVP8 ") == "image/webp"
    assert sniff(b"RIFF\x00\x00\x00\x00WAVEfmt ") == "audio/wav"
    assert sniff(b"ID3\x04\x00") == "audio/mpeg"
    assert sniff(b"\x00\x00\x00\x20ftypM4A \x00") == "audio/mp4"
    assert sniff(b"OggS\x00\x02") == "audio/ogg"
    assert sniff(EXE) is None
    assert sniff(b"<html><script>alert(1)</script>") is None


def test_a_scanner_plugged_in_by_setting_decides_the_scan_status(cases, settings):
    case = cases.open()
    settings.BATON_ATTACHMENT_SCANNER = "tests.processes_admin.test_attachments.infected_scanner"

    with pytest.raises(InvalidInput) as refused:
        attachments.attachment_add(case=case, actor=user("call_center_agent"), file=PDF, name="a.pdf")

    assert refused.value.code == "attachment_infected"
    settings.BATON_ATTACHMENT_SCANNER = "tests.processes_admin.test_attachments.clean_scanner"
    found = attachments.attachment_add(case=case, actor=user("call_center_agent"), file=PDF, name="a.pdf")
    assert found.scan_status == Attachment.Scan.CLEAN


def infected_scanner(name, data):
    return "infected"


def clean_scanner(name, data):
    return "clean"


def test_a_download_is_audited_and_served_as_an_attachment_that_is_never_sniffed(cases, login):
    case = cases.open()
    found = attachments.attachment_add(case=case, actor=user("call_center_agent"), file=PDF, name="账单.pdf")
    client = login("call_center_agent")

    response = client.get(f"/admin/processes/case/{case.pk}/attachments/{found.pk}/")

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    entry = AuditEntry.objects.get(kind=AuditEntry.Kind.ATTACHMENT_DOWNLOAD)
    assert (entry.username, entry.object_id, entry.detail["case"]) == (
        "call_center_agent",
        str(found.pk),
        case.reference,
    )


def test_a_download_outside_the_users_departments_is_404_and_not_audited(cases, login):
    case = cases.open()  # at the call center: never at risk
    found = attachments.attachment_add(case=case, actor=user("call_center_agent"), file=PDF, name="a.pdf")
    client = login("risk_agent")

    assert client.get(f"/admin/processes/case/{case.pk}/attachments/{found.pk}/").status_code == 404
    other = cases.open()
    # An attachment named under another case the user may see is not found either.
    assert (
        login("call_center_agent")
        .get(f"/admin/processes/case/{other.pk}/attachments/{found.pk}/")
        .status_code
        == 404
    )
    assert not AuditEntry.objects.filter(kind=AuditEntry.Kind.ATTACHMENT_DOWNLOAD).exists()


def test_the_sweep_deletes_files_a_rolled_back_outer_transaction_left_behind(cases, media):
    from datetime import timedelta

    from django.db import transaction

    case = cases.open()
    kept = attachments.attachment_add(case=case, actor=user("call_center_agent"), file=PDF, name="kept.pdf")
    with transaction.atomic():
        attachments.attachment_add(case=case, actor=user("call_center_agent"), file=PDF, name="lost.pdf")
        transaction.set_rollback(True)
    assert len(stored_files(media)) == 2

    deleted = attachments.attachment_orphans_delete(older_than=timedelta(0))

    assert len(deleted) == 1 and deleted[0] != kept.file.name
    assert [p.name for p in stored_files(media)] == [kept.file.name.rsplit("/", 1)[-1]]


def test_a_row_whose_bytes_are_gone_is_404_not_a_server_error(cases, login, media):
    case = cases.open()
    found = attachments.attachment_add(case=case, actor=user("call_center_agent"), file=PDF, name="a.pdf")
    for path in stored_files(media):
        path.unlink()

    response = login("call_center_agent").get(f"/admin/processes/case/{case.pk}/attachments/{found.pk}/")

    assert response.status_code == 404
    assert not AuditEntry.objects.filter(kind=AuditEntry.Kind.ATTACHMENT_DOWNLOAD).exists()
