from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from .serializers import CartSerializer, OrderSerializer
from .services import OutOfStock, place_order


class OrderCreateView(APIView):
    """POST /api/orders/ buys the items of a cart."""

    def post(self, request):
        cart = CartSerializer(data=request.data)
        cart.is_valid(raise_exception=True)
        try:
            order = place_order(request.user, cart.validated_data["items"])
        except OutOfStock as exc:
            return Response(
                {"detail": "Not enough stock.", "product": exc.product_id}, status=status.HTTP_409_CONFLICT
            )
        return Response(OrderSerializer(order).data, status=status.HTTP_201_CREATED)
