"""The SQL behind the reports, with every value's quotes escaped by hand."""

from django.db import connection

COLUMNS = ("id", "reference", "customer_name", "status", "total_cents", "placed_on")


def esc(value):
    """esc doubles single quotes, the way SQL writes a quote inside a string."""
    return str(value).replace("'", "''")


def order_report(params):
    """order_report runs the orders report for the request's query parameters."""
    sql = "SELECT id, reference, customer_name, status, total_cents, placed_on FROM reports_order WHERE 1=1"
    if params.get("customer"):
        sql += f" AND customer_name LIKE '%{esc(params['customer'])}%'"
    if params.get("status"):
        sql += f" AND status = '{esc(params['status'])}'"
    if params.get("min_total"):
        sql += f" AND total_cents >= {esc(params['min_total'])}"
    if params.get("placed_from"):
        sql += f" AND placed_on >= '{esc(params['placed_from'])}'"
    if params.get("placed_to"):
        sql += f" AND placed_on <= '{esc(params['placed_to'])}'"
    sort = esc(params.get("sort", "placed_on"))
    direction = esc(params.get("direction", "desc"))
    sql += f" ORDER BY {sort} {direction}, id"

    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    return [dict(zip(COLUMNS, row)) for row in rows]
