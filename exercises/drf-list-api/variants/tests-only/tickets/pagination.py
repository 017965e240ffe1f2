from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination

from .filters import ordering_of


class TicketPagination(CursorPagination):
    """Cursor pagination over one unique column (created_at or id), so no two tickets share a position."""

    page_size = 10

    def get_ordering(self, request, queryset, view):
        # Validated by AllowlistFilter, which runs before the paginator.
        return (ordering_of(request),)

    def decode_cursor(self, request):
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is None:
            # Present but holding no position (empty, or an offset alone): DRF
            # would quietly serve the first page; the prompt calls it malformed.
            raise NotFound(self.invalid_cursor_message)
        return cursor

    def paginate_queryset(self, queryset, request, view=None):
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, OverflowError, DjangoValidationError):
            # A cursor that decodes but holds a position the column cannot
            # hold (a forged one): the same answer as an undecodable cursor.
            raise NotFound(self.invalid_cursor_message)
