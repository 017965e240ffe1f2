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

    def check_throttles(self, request):
        self._throttles = self.get_throttles()
        for throttle in self._throttles:
            if not throttle.allow_request(request, self):
                self.throttled(request, throttle.wait())

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code >= 400 and response.status_code != 429:
            for throttle in getattr(self, "_throttles", []):
                if getattr(throttle, "key", None):
                    throttle.record()
        return response

    def get_queryset(self):
        return Ticket.objects.select_related("assignee")
