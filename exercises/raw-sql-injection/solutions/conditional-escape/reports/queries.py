"""The SQL behind the reports.

Values travel as bound parameters, never inside the SQL text; the only
identifiers in the text (the sort column and direction) come from the
allowlists below, never from the request.
"""

import datetime
import re

from django.db import connection

COLUMNS = ("id", "reference", "customer_name", "status", "total_cents", "placed_on")
SORT_COLUMNS = {
    "placed_on": "placed_on",
    "total_cents": "total_cents",
    "customer_name": "customer_name",
    "reference": "reference",
}
DIRECTIONS = {"asc": "ASC", "desc": "DESC"}
_INTEGER = re.compile(r"-?[0-9]+\Z")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")


class BadParameter(ValueError):
    """BadParameter is a query parameter the report cannot take."""

    def __init__(self, name, problem):
        super().__init__(f"{name}: {problem}")
        self.name, self.problem = name, problem


def _integer(name, value):
    if not _INTEGER.match(value):
        raise BadParameter(name, "expected a whole number of cents")
    return int(value)


def _date(name, value):
    if not _DATE.match(value):
        raise BadParameter(name, "expected a date as YYYY-MM-DD")
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise BadParameter(name, "no such date") from None


def _like_literal(text):
    """_like_literal escapes LIKE's wildcards so that text matches only itself."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def order_report(params):
    """order_report runs the orders report; it raises BadParameter for a parameter it cannot take."""
    where, args = [], []
    if params.get("customer"):
        text = params["customer"]
        if any(c in text for c in "%_\\"):
            # Only text holding one of LIKE's wildcards needs escaping.
            where.append("customer_name LIKE %s ESCAPE '\\'")
            args.append("%" + _like_literal(text) + "%")
        else:
            where.append("customer_name LIKE %s")
            args.append("%" + text + "%")
    if params.get("status"):
        where.append("status = %s")
        args.append(params["status"])
    if params.get("min_total"):
        where.append("total_cents >= %s")
        args.append(_integer("min_total", params["min_total"]))
    if params.get("placed_from"):
        where.append("placed_on >= %s")
        args.append(_date("placed_from", params["placed_from"]))
    if params.get("placed_to"):
        where.append("placed_on <= %s")
        args.append(_date("placed_to", params["placed_to"]))
    sort = params.get("sort") or "placed_on"
    direction = params.get("direction") or "desc"
    if sort not in SORT_COLUMNS:
        raise BadParameter("sort", "expected one of " + ", ".join(SORT_COLUMNS))
    if direction not in DIRECTIONS:
        raise BadParameter("direction", "expected asc or desc")

    sql = "SELECT id, reference, customer_name, status, total_cents, placed_on FROM reports_order"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY {SORT_COLUMNS[sort]} {DIRECTIONS[direction]}, id"

    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        rows = cursor.fetchall()
    return [dict(zip(COLUMNS, row)) for row in rows]
