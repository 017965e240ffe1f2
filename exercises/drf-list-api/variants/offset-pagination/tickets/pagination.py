from rest_framework.pagination import PageNumberPagination


class TicketPagination(PageNumberPagination):
    """Numbered pages of 10: page N is rows 10(N-1) to 10N of the ordered list at the time it is asked for."""

    page_size = 10
