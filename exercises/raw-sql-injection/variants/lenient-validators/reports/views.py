from rest_framework.response import Response
from rest_framework.views import APIView

from .queries import BadParameter, order_report


class OrderReportView(APIView):
    """GET /api/reports/orders/: the orders report (see the README of the task)."""

    def get(self, request):
        try:
            rows = order_report(request.query_params)
        except BadParameter as e:
            return Response({e.name: [e.problem]}, status=400)
        return Response({
            "count": len(rows),
            "results": [
                {
                    "id": row["id"],
                    "reference": row["reference"],
                    "customer_name": row["customer_name"],
                    "status": row["status"],
                    "total_cents": row["total_cents"],
                    "placed_on": str(row["placed_on"]),
                }
                for row in rows
            ],
        })
