from rest_framework.views import APIView

from .filters import ListQuery
from .models import Ticket
from .pagination import keyset_page
from .serializers import TicketSerializer
from .throttles import WindowThrottle


class TicketList(APIView):
    throttle_classes = [WindowThrottle]

    def get(self, request):
        query = ListQuery(request.query_params)
        tickets = Ticket.objects.select_related("assignee").filter(**query.filters)
        return keyset_page(request, tickets, query,
                           lambda page: TicketSerializer(page, many=True, context={"request": request}).data)
