"""Attachments and linked cases through the API: thin views over processes.attachments and
processes.links, scoped by the caller's read of the case (404 outside it)."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.errors import READ_ERRORS, WRITE_ERRORS, error_responses
from core.api.parsers import BoundedJSONParser
from processes import attachments, links
from processes.api.selectors import case_in_scope
from processes.api.views import validated_input
from processes.downloads import attachment_response
from processes.models import Attachment, CaseLink


class AttachmentSerializer(serializers.ModelSerializer):
    uploaded_by = serializers.CharField(source="uploaded_by.username", read_only=True)

    class Meta:
        model = Attachment
        fields = [
            "id",
            "original_name",
            "size",
            "content_type",
            "sha256",
            "uploaded_by",
            "uploaded_at",
            "scan_status",
        ]
        read_only_fields = fields


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class LinkSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=["duplicate_of", "has_duplicate", "child_of", "parent_of"])
    case = serializers.CharField(source="case.reference")
    title = serializers.CharField(source="case.title")
    status = serializers.CharField(source="case.status")
    created_at = serializers.DateTimeField()


class LinkInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=CaseLink.Kind.choices)
    target = serializers.CharField(max_length=30)


# The content types a download may carry (the default BATON_ATTACHMENT_TYPES).
ATTACHMENT_TYPES = (
    "application/pdf",
    "image/png",
    "image/jpeg",
    "image/gif",
    "image/webp",
    "audio/mpeg",
    "audio/wav",
    "audio/mp4",
    "audio/ogg",
)


class CaseAttachmentsView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        operation_id="case_attachments_list",
        tags=["cases"],
        responses={200: AttachmentSerializer(many=True), **error_responses(*READ_ERRORS)},
    )
    def get(self, request: Request, reference: str) -> Response:
        case = case_in_scope(user=request.user, reference=reference)
        return Response(AttachmentSerializer(attachments.attachments_of(case), many=True).data)

    @extend_schema(
        operation_id="case_attachments_add",
        tags=["cases"],
        request={"multipart/form-data": UploadSerializer},
        responses={201: AttachmentSerializer, **error_responses(*WRITE_ERRORS)},
        description="Add a file (PDF, image or audio; the content is checked, not the name) to the case.",
    )
    def post(self, request: Request, reference: str) -> Response:
        upload = validated_input(UploadSerializer, request)["file"]
        found = attachments.attachment_add(case=reference, actor=request.user, file=upload, name=upload.name)
        return Response(AttachmentSerializer(found).data, status=status.HTTP_201_CREATED)


class AttachmentDownloadView(APIView):
    @extend_schema(
        operation_id="case_attachment_download",
        tags=["cases"],
        responses={
            **{(200, kind): OpenApiResponse(OpenApiTypes.BINARY) for kind in ATTACHMENT_TYPES},
            **error_responses(*READ_ERRORS),
        },
        description="The file, as an attachment, with its own content type. Every download is audited.",
    )
    def get(self, request: Request, reference: str, attachment_id: int):
        case = case_in_scope(user=request.user, reference=reference)
        found = attachments.attachment_for_download(
            user=request.user, case_id=case.pk, attachment_id=attachment_id
        )
        if found is None:
            raise Http404
        return attachment_response(request, found, via="api")


class CaseLinksView(APIView):
    parser_classes = [BoundedJSONParser]

    @extend_schema(
        operation_id="case_links_list",
        tags=["cases"],
        responses={200: LinkSerializer(many=True), **error_responses(*READ_ERRORS)},
    )
    def get(self, request: Request, reference: str) -> Response:
        case = case_in_scope(user=request.user, reference=reference)
        return Response(LinkSerializer(links.links_of(case), many=True).data)

    @extend_schema(
        operation_id="case_links_add",
        tags=["cases"],
        request=LinkInputSerializer,
        responses={201: LinkSerializer(many=True), **error_responses(*WRITE_ERRORS)},
        description="`duplicate_of`: close this case into the target (both timelines kept). "
        "`child_of`: make this case a child of the target.",
    )
    def post(self, request: Request, reference: str) -> Response:
        data = validated_input(LinkInputSerializer, request)
        if data["kind"] == CaseLink.Kind.DUPLICATE_OF:
            case = links.case_close_as_duplicate(case=reference, primary=data["target"], actor=request.user)
        else:
            case = links.case_link_parent(case=reference, parent=data["target"], actor=request.user).case
        return Response(LinkSerializer(links.links_of(case), many=True).data, status=status.HTTP_201_CREATED)
