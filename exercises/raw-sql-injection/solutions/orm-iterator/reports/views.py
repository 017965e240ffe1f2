from rest_framework.response import Response
from rest_framework.views import APIView

from .queries import order_report
from .serializers import OrderReportParams, OrderRowSerializer


class OrderReportView(APIView):
    """GET /api/reports/orders/: the orders report (see the README of the task)."""

    def get(self, request):
        params = OrderReportParams(data=request.query_params)
        params.is_valid(raise_exception=True)  # 400 with the errors
        orders = list(order_report(params.validated_data).iterator())  # stream: reports can be long
        return Response({"count": len(orders), "results": OrderRowSerializer(orders, many=True).data})
