"""The SQL behind the reports.

The orders report started life as a query pasted from a SQL console, and it
still is one.
"""

import re

from django.db import DatabaseError, connection

COLUMNS = ("id", "reference", "customer_name", "status", "total_cents", "placed_on")


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")


class BadParameter(ValueError):
    def __init__(self, name, problem):
        super().__init__(f"{name}: {problem}")
        self.name, self.problem = name, problem


def order_report(params):
    """order_report runs the orders report for the request's query parameters."""
    sql = "SELECT id, reference, customer_name, status, total_cents, placed_on FROM reports_order WHERE 1=1"
    if params.get("customer"):
        customer = params["customer"].replace("'", "''").replace("%", "\\%")
        sql += f" AND customer_name LIKE '%{customer}%' ESCAPE '\\'"
    if params.get("status"):
        sql += f" AND status = '{params['status']}'"
    if params.get("min_total"):
        sql += f" AND total_cents >= {params['min_total']}"
    for name in ("placed_from", "placed_to"):
        if params.get(name) and not _DATE.match(params[name]):
            raise BadParameter(name, "expected YYYY-MM-DD")
    if params.get("placed_from"):
        sql += f" AND placed_on >= '{params['placed_from']}'"
    if params.get("placed_to"):
        sql += f" AND placed_on <= '{params['placed_to']}'"
    sort = params.get("sort", "placed_on")
    direction = params.get("direction", "desc")
    sql += f" ORDER BY {sort} {direction}, id"

    try:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            rows = cursor.fetchall()
    except DatabaseError:
        # Whatever the database refuses was a bad request.
        raise BadParameter("query", "the report could not run with these parameters") from None
    return [dict(zip(COLUMNS, row)) for row in rows]
