"""The SQL behind the reports.

The orders report started life as a query pasted from a SQL console, and it
still is one.
"""

from django.db import connection

COLUMNS = ("id", "reference", "customer_name", "status", "total_cents", "placed_on")


def order_report(params):
    """order_report runs the orders report for the request's query parameters."""
    sql = "SELECT id, reference, customer_name, status, total_cents, placed_on FROM reports_order WHERE 1=1"
    if params.get("customer"):
        sql += f" AND customer_name LIKE '%{params['customer']}%'"
    if params.get("status"):
        sql += f" AND status = '{params['status']}'"
    if params.get("min_total"):
        sql += f" AND total_cents >= {params['min_total']}"
    if params.get("placed_from"):
        sql += f" AND placed_on >= '{params['placed_from']}'"
    if params.get("placed_to"):
        sql += f" AND placed_on <= '{params['placed_to']}'"
    sort = params.get("sort", "placed_on")
    direction = params.get("direction", "desc")
    sql += f" ORDER BY {sort} {direction}, id"

    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    return [dict(zip(COLUMNS, row)) for row in rows]
