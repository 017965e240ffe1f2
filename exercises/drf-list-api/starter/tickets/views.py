from rest_framework import generics

from .filters import apply_filters
from .models import Ticket
from .pagination import TicketPagination
from .serializers import TicketSerializer


class TicketList(generics.ListAPIView):
    serializer_class = TicketSerializer
    pagination_class = TicketPagination

    def get_queryset(self):
        return apply_filters(Ticket.objects.all(), self.request.query_params)
