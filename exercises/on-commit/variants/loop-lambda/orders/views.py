from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from .serializers import BulkInSerializer, OrderInSerializer, order_body
from django.db import transaction

from .services import OutOfStock, place_batch, place_order
from .tasks import process_order


class PlaceOrder(APIView):
    """POST /api/orders/: place one order."""

    def post(self, request):
        data = OrderInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            order = place_order(request.user, data.line_pairs())
        except OutOfStock as e:
            return Response({"detail": str(e)}, status=status.HTTP_409_CONFLICT)
        transaction.on_commit(lambda: process_order.delay(order.id))
        return Response(order_body(order), status=status.HTTP_201_CREATED)


class PlaceBatch(APIView):
    """POST /api/orders/bulk/: place many orders; the ones out of stock are skipped."""

    def post(self, request):
        data = BulkInSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batch, placed, failed = place_batch(request.user, data.order_line_pairs())
        return Response(
            {"batch": batch.id, "placed": [order_body(o) for o in placed], "failed": failed},
            status=status.HTTP_201_CREATED,
        )
