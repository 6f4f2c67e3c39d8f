"""The feeds integrations poll, built on the commit-ordered change feed (`processes.feed`).

Both answer `{"results": [...], "cursor": <opaque>, "next": <url or null>}`. `cursor` is where to
poll from next time, always; `next` is the URL of the following page while more is ready now. A
poller stores `cursor` after handling a page and never needs to overlap or de-duplicate.
"""

from __future__ import annotations

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from core.api.errors import LIST_ERRORS, error_responses
from processes import feed
from processes import selectors as domain_selectors
from processes.api import filters, selectors
from processes.api import serializers as s
from processes.api.views import CasePageMixin

DEFAULT_PAGE = 50
MAX_PAGE = 200
CURSOR = OpenApiParameter(
    "cursor", str, description="Opaque: the `cursor` of the previous answer. Absent: from the beginning."
)
PAGE_SIZE = OpenApiParameter(
    "page_size",
    {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
    description=f"1–{MAX_PAGE}, default {DEFAULT_PAGE}.",
)


def _page_args(request: Request) -> tuple[feed.Position, int]:
    try:
        since = feed.decode(request.query_params.get("cursor"))
    except feed.BadCursor:
        raise ValidationError({"cursor": ["Invalid cursor."]}, code="invalid_cursor") from None
    raw = request.query_params.getlist("page_size") or [str(DEFAULT_PAGE)]
    if len(raw) > 1 or not raw[0].isdigit() or not 1 <= int(raw[0]) <= MAX_PAGE:
        raise ValidationError(
            {"page_size": [f"A whole number from 1 to {MAX_PAGE}."]}, code="invalid_page_size"
        )
    return since, int(raw[0])


def _answer(request: Request, data, position: feed.Position, more: bool) -> Response:
    cursor = feed.encode(position)
    url = replace_query_param(request.build_absolute_uri(), "cursor", cursor) if more else None
    return Response({"results": data, "cursor": cursor, "next": url})


def _feed_schema(name: str, item):
    return inline_serializer(
        name,
        {
            "results": item,
            "cursor": serializers.CharField(help_text="Where to poll from next time."),
            "next": serializers.URLField(allow_null=True, help_text="The next page, while more is ready."),
        },
    )


class FeedEventSerializer(s.EventSerializer):
    case = serializers.CharField(source="case.reference")

    class Meta(s.EventSerializer.Meta):
        fields = ["id", "case", *s.EventSerializer.Meta.fields[1:]]
        read_only_fields = fields


@extend_schema(tags=["cases"])
class EventFeedView(generics.GenericAPIView):
    """Every case event in the caller's scope, in commit order (see docs/integrations.md)."""

    parser_classes = [JSONParser]
    serializer_class = FeedEventSerializer
    pagination_class = None

    def get_queryset(self):
        return domain_selectors.case_events(user=self.request.user)

    @extend_schema(
        operation_id="events_feed",
        parameters=[CURSOR, PAGE_SIZE],
        responses={
            200: _feed_schema("EventFeedPage", FeedEventSerializer(many=True)),
            **error_responses(*LIST_ERRORS),
        },
    )
    def get(self, request: Request) -> Response:
        since, size = _page_args(request)
        page = feed.read(self.get_queryset(), since=since, limit=size)
        return _answer(request, FeedEventSerializer(page.events, many=True).data, page.position, page.more)


@extend_schema(tags=["cases"])
class CaseChangesView(CasePageMixin, generics.GenericAPIView):
    """Cases in the caller's scope that changed after `cursor`, each once, in the commit order of
    its latest change, with their current state. `updated_since` narrows the first poll."""

    parser_classes = [JSONParser]
    serializer_class = s.CaseChangeSerializer
    filterset_class = filters.CaseFilter
    filter_backends = [DjangoFilterBackend]
    pagination_class = None

    def get_queryset(self):
        return selectors.case_list(user=self.request.user)

    @extend_schema(
        operation_id="cases_changes",
        parameters=[CURSOR, PAGE_SIZE],
        responses={
            200: _feed_schema("CaseChangesPage", s.CaseChangeSerializer(many=True)),
            **error_responses(*LIST_ERRORS),
        },
    )
    def get(self, request: Request) -> Response:
        since, size = _page_args(request)
        cases = self.filter_queryset(self.get_queryset())
        events = domain_selectors.case_events(user=request.user).select_related(None)
        page, position, more = feed.changed_cases(cases, events, since=since, limit=size)
        context = {**self.get_serializer_context(), **self.page_attrs(page)}
        data = s.CaseChangeSerializer(page, many=True, context=context).data
        return _answer(request, data, position, more)
