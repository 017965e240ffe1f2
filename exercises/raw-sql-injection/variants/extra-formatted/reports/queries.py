"""The orders report, through the ORM; the text filters keep their SQL in extra()."""

from .models import Order


def order_report(params):
    """order_report takes validated parameters (OrderReportParams) and returns the orders."""
    orders = Order.objects.all()
    where = []
    if params.get("customer"):
        customer = params["customer"].replace("%", "%%")  # extra() SQL goes through %-formatting
        where.append(f"customer_name LIKE '%%{customer}%%'")
    if params.get("status"):
        where.append(f"status = '{params['status']}'")
    if where:
        orders = orders.extra(where=where)
    if params.get("min_total") is not None:
        orders = orders.filter(total_cents__gte=params["min_total"])
    if params.get("placed_from") is not None:
        orders = orders.filter(placed_on__gte=params["placed_from"])
    if params.get("placed_to") is not None:
        orders = orders.filter(placed_on__lte=params["placed_to"])
    prefix = "-" if params["direction"] == "desc" else ""
    return orders.order_by(prefix + params["sort"], "id")
