"""Page-number pages for browsing, cursor pages for the feeds that integrations poll.

A page or cursor the server cannot use is bad input (400 with `fields`), not a missing resource.
"""

from __future__ import annotations

from django.core.paginator import Page
from django.utils.dateparse import parse_datetime
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError

from core import bounds


class _PastTheEnd(Page):
    """An empty page after the last one: no next page; the previous link goes to the last page."""

    def has_next(self) -> bool:
        return False

    def has_previous(self) -> bool:
        return self.paginator.count > 0

    def previous_page_number(self) -> int:
        return self.paginator.num_pages


def strict_page_size(paginator, request) -> int:
    """`page_size`, if given, is a whole number from 1 to the maximum; DRF would quietly use the
    default for anything else (0, -3, 2.5, "ten"), which the schema does not allow."""
    raw = request.query_params.getlist(paginator.page_size_query_param)
    if not raw:
        return paginator.page_size
    if len(raw) > 1 or not raw[0].isdigit() or not 1 <= int(raw[0]) <= paginator.max_page_size:
        raise ValidationError(
            {paginator.page_size_query_param: [f"A whole number from 1 to {paginator.max_page_size}."]},
            code="invalid_page_size",
        )
    return int(raw[0])


def page_size_schema(paginator) -> dict:
    return {"type": "integer", "minimum": 1, "maximum": paginator.max_page_size}


class PagePagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def get_page_size(self, request):
        return strict_page_size(self, request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = page_size_schema(self)
        return parameters

    def paginate_queryset(self, queryset, request, view=None):
        """`page` is a whole number from 1 (else 400); a page past the last one is empty, with the
        count and a link back, as the schema promises for any page number it allows."""
        raw = request.query_params.getlist(self.page_query_param)
        if raw and (len(raw) > 1 or not raw[0].isdigit() or not 1 <= int(raw[0]) < 2**31):
            raise ValidationError({self.page_query_param: ["A whole number from 1."]}, code="invalid_page")
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound:
            paginator = self.django_paginator_class(queryset, self.get_page_size(request))
            self.page = _PastTheEnd([], int(raw[0]), paginator)
            self.request = request
            return []


def _usable_position(value: str | None) -> bool:
    """A cursor position is a timestamp within the bounds every input keeps (core.bounds)."""
    if value is None:
        return True
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return False
    if parsed is None or parsed.tzinfo is None:
        return False
    return bounds.in_range(parsed)


class FeedPagination(pagination.CursorPagination):
    """Stable pages of a feed in time order; `next` is the cursor of the following page."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("created_at", "id")

    def get_page_size(self, request):
        return strict_page_size(self, request)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = page_size_schema(self)
        return parameters

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except NotFound as exc:
            raise ValidationError(
                {self.cursor_query_param: [str(exc.detail)]}, code="invalid_cursor"
            ) from exc
        if cursor is not None and not _usable_position(cursor.position):
            raise ValidationError(
                {self.cursor_query_param: [self.invalid_cursor_message]}, code="invalid_cursor"
            )
        return cursor


class EventFeedPagination(FeedPagination):
    ordering = ("created_at", "id")
