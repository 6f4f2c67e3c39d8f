"""Page-number pages for browsing, cursor pages for the feeds that integrations poll.

A page or cursor the server cannot use is bad input (400 with `fields`), not a missing resource.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime
from rest_framework import pagination
from rest_framework.exceptions import NotFound, ValidationError


class PagePagination(pagination.PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except NotFound as exc:
            raise ValidationError({self.page_query_param: [str(exc.detail)]}, code="invalid_page") from exc


def _usable_position(value: str | None) -> bool:
    """A cursor position is a timestamp the database can compare against (years 1900 to 9000)."""
    if value is None:
        return True
    try:
        parsed = parse_datetime(value)
    except ValueError:
        return False
    if parsed is None or parsed.tzinfo is None:
        return False
    try:
        return datetime(1900, 1, 2, tzinfo=UTC) <= parsed <= datetime(9000, 1, 1, tzinfo=UTC)
    except (OverflowError, ValueError):
        return False


class FeedPagination(pagination.CursorPagination):
    """Stable pages of a feed in time order; `next` is the cursor of the following page."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("created_at", "id")

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
