"""Case attachments: adding a file (checked, stored, recorded on the timeline) and reading it back.

The checks that need no lock (size, the type read from the first bytes, the virus scanner) run
before the transaction: a scanner may be a network service, and nothing slow runs under the case's
lock. The bytes are written to the storage before the transaction too, and deleted again when it
does not commit, so that no stored file is left without its row. The quota is checked under the
case's lock, so that two uploads at once cannot both slip under it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet, Sum
from django.utils.module_loading import import_string

from core.errors import InvalidInput
from processes import policy
from processes.models import Attachment, Case, CaseEvent

# What the first bytes of a file say it is. Only the types the desk accepts are listed: anything
# else (an executable renamed .pdf, a script, an HTML page) is "unknown" and refused.
_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"%PDF-", "application/pdf"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"OggS", "audio/ogg"),
)
_MP3_FRAME_SYNC = (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")
_M4A_BRANDS = (b"M4A ", b"M4B ", b"mp42", b"isom", b"mp41")

# The extension a stored type is offered with, whatever the uploader called the file.
EXTENSIONS = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "image/webp": ".webp",
    "audio/mpeg": ".mp3",
    "audio/wav": ".wav",
    "audio/mp4": ".m4a",
    "audio/ogg": ".ogg",
}


def sniff_content_type(head: bytes) -> str | None:
    """The content type the bytes themselves declare (magic numbers), or None."""
    for offset, magic, content_type in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic:
            return content_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if head[4:8] == b"ftyp" and head[8:12] in _M4A_BRANDS:
        return "audio/mp4"
    if head[:2] in _MP3_FRAME_SYNC:
        return "audio/mpeg"
    return None


def scan_nothing(name: str, data: bytes) -> str:
    """The default scanner hook: nothing is scanned, and the attachment says so."""
    return Attachment.Scan.NOT_SCANNED


def _scan(name: str, data: bytes) -> str:
    status = import_string(settings.BATON_ATTACHMENT_SCANNER)(name, data)
    return status if status in Attachment.Scan.values else Attachment.Scan.NOT_SCANNED


def _invalid(message: str, code: str) -> InvalidInput:
    return InvalidInput(message, code=code, extra={"fields": {"file": [message]}})


def _clean_name(name: str) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "".join(ch for ch in base if ch.isprintable() and ch not in '"<>|:*?')[:200] or "attachment"


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes
    content_type: str
    sha256: str


def _read(file: IO[bytes] | bytes, name: str) -> Upload:
    """The upload read and checked without touching the database: size, then the real type."""
    limit = settings.BATON_ATTACHMENT_MAX_BYTES
    data = file if isinstance(file, bytes) else file.read(limit + 1)
    if not data:
        raise _invalid("The file is empty.", "attachment_empty")
    if len(data) > limit:
        raise _invalid(f"The file is larger than {limit} bytes.", "attachment_too_large")
    content_type = sniff_content_type(data[:64])
    if content_type is None or content_type not in settings.BATON_ATTACHMENT_TYPES:
        raise _invalid(
            "The file's content is not an accepted type (PDF, image or audio).", "attachment_type_refused"
        )
    return Upload(_clean_name(name), data, content_type, hashlib.sha256(data).hexdigest())


def attachment_add(
    *, case: Case | str, actor, file: IO[bytes] | bytes, name: str, at: datetime | None = None
) -> Attachment:
    """Add a file to a case: checked (size, real type, the case's quota), stored, recorded."""
    from processes.services import base as services_base  # the state-change helpers (lock, timeline)

    upload = _read(file, name)
    scan_status = _scan(upload.name, upload.data)
    if scan_status == Attachment.Scan.INFECTED:
        raise _invalid("The virus scanner refused the file.", "attachment_infected")
    stored = None
    try:
        # Called inside a caller's transaction, a rollback of that outer transaction would leave the
        # bytes behind: `attachment_orphans_delete` (manage.py attachments_sweep) removes those.
        with transaction.atomic():
            locked = services_base._lock_case(case, actor)
            services_base._require_works_on(actor, locked, "add a file to")
            used = Attachment.objects.filter(case_id=locked.pk).aggregate(total=Sum("size"))["total"] or 0
            quota = settings.BATON_ATTACHMENT_CASE_QUOTA_BYTES
            if used + len(upload.data) > quota:
                raise _invalid(
                    f"The case's files would exceed its quota of {quota} bytes.", "attachment_over_quota"
                )
            attachment = Attachment(
                case=locked,
                original_name=upload.name,
                size=len(upload.data),
                content_type=upload.content_type,
                sha256=upload.sha256,
                uploaded_by=actor,
                scan_status=scan_status,
            )
            if at is not None:
                attachment.uploaded_at = at
            attachment.file.save(upload.name, ContentFile(upload.data), save=False)
            stored = attachment.file.name
            attachment.full_clean(exclude=["case", "uploaded_by", "file"])
            attachment.save()
            change = services_base._Change(
                locked, at=attachment.uploaded_at, actor=actor, stamp=locked._stamp
            )
            change.event(
                CaseEvent.Kind.ATTACHMENT_ADDED,
                department_id=locked.current_department_id,
                attachment=attachment.pk,
                name=upload.name,
                size=attachment.size,
                content_type=upload.content_type,
                sha256=upload.sha256,
                scan=scan_status,
            )
            change.flush()
    except BaseException:
        if stored is not None:
            default_storage.delete(stored)
        raise
    return attachment


def attachment_orphans_delete(*, older_than: timedelta = timedelta(hours=1)) -> list[str]:
    """Stored files without a row (written by a transaction that did not commit), once they are
    older than any transaction still running could be."""
    from django.utils import timezone

    cutoff = timezone.now() - older_than
    known = set(Attachment.objects.values_list("file", flat=True))
    deleted = []
    try:
        case_dirs, _files = default_storage.listdir("attachments")
    except FileNotFoundError:
        return deleted
    for case_dir in case_dirs:
        _dirs, names = default_storage.listdir(f"attachments/{case_dir}")
        for name in names:
            path = f"attachments/{case_dir}/{name}"
            if path in known:
                continue
            try:
                modified = default_storage.get_modified_time(path)
            except (NotImplementedError, FileNotFoundError):
                continue
            if modified < cutoff:
                default_storage.delete(path)
                deleted.append(path)
    return deleted


# -- reads ------------------------------------------------------------------------------------------
def attachments_of(case: Case) -> QuerySet[Attachment]:
    return Attachment.objects.filter(case=case).select_related("uploaded_by").order_by("uploaded_at", "pk")


def attachment_for_download(*, user, case_id: int, attachment_id: int) -> Attachment | None:
    """The attachment when its case is in the user's read scope; None otherwise (a 404 to them)."""
    visible = policy.visible_cases(user).filter(pk=case_id)
    return (
        Attachment.objects.filter(pk=attachment_id, case_id=case_id, case__in=visible)
        .select_related("case")
        .first()
    )


def download_name(attachment: Attachment) -> str:
    """The uploader's name with the extension of what the file really is."""
    stem = (
        attachment.original_name.rsplit(".", 1)[0]
        if "." in attachment.original_name
        else attachment.original_name
    )
    return stem + EXTENSIONS.get(attachment.content_type, "")
