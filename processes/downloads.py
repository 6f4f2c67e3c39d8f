"""Serving a case attachment: scope-checked by the caller's read, audited, and sent so that a
browser saves it instead of running it as a page."""

from __future__ import annotations

import logging

from django.http import FileResponse, Http404, HttpRequest

from departments.audit import audit_record
from departments.models import AuditEntry
from processes.attachments import download_name
from processes.models import Attachment

logger = logging.getLogger(__name__)


def attachment_response(request: HttpRequest, attachment: Attachment, *, via: str) -> FileResponse:
    try:
        content = attachment.file.open("rb")
    except OSError as exc:  # the row outlived its bytes (storage restored from an older backup)
        logger.error("attachment %s: stored file %s is missing", attachment.pk, attachment.file.name)
        raise Http404("The file is no longer stored.") from exc
    audit_record(
        kind=AuditEntry.Kind.ATTACHMENT_DOWNLOAD,
        request=request,
        object_type="attachment",
        object_id=attachment.pk,
        detail={
            "case": attachment.case.reference,
            "name": attachment.original_name,
            "sha256": attachment.sha256,
            "via": via,
        },
    )
    response = FileResponse(
        content,
        as_attachment=True,
        filename=download_name(attachment),
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    # Opened on its own, the file is a sandboxed document that can run nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, no-store"
    return response
