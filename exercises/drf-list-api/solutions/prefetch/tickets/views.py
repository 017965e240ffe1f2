from rest_framework import generics

from .filters import AllowlistFilter
from .models import Ticket
from .pagination import TicketPagination
from .serializers import TicketSerializer
from .throttles import PerAddressThrottle, PerUserThrottle


class TicketList(generics.ListAPIView):
    serializer_class = TicketSerializer
    pagination_class = TicketPagination
    filter_backends = [AllowlistFilter]
    throttle_classes = [PerUserThrottle, PerAddressThrottle]

    def get_queryset(self):
        return Ticket.objects.prefetch_related("assignee")
