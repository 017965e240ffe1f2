"""The orders report, through the ORM: values are always bound parameters."""

from .models import Order


def order_report(params):
    """order_report takes validated parameters (OrderReportParams) and returns the orders."""
    orders = Order.objects.all()
    if params.get("customer"):
        orders = orders.filter(customer_name__contains=params["customer"])
    if params.get("status"):
        orders = orders.filter(status=params["status"])
    if params.get("min_total") is not None:
        orders = orders.filter(total_cents__gte=params["min_total"])
    if params.get("placed_from") is not None:
        orders = orders.filter(placed_on__gte=params["placed_from"])
    if params.get("placed_to") is not None:
        orders = orders.filter(placed_on__lte=params["placed_to"])
    prefix = "-" if params["direction"] == "desc" else ""
    return orders.order_by(prefix + params["sort"], "id")
