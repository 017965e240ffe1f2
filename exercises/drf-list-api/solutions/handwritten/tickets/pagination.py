"""Keyset pagination: the cursor is the sort value of the last ticket sent, so inserts never shift a page."""

import base64
import datetime
import json

from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

PAGE_SIZE = 10


def _encode(column, value):
    raw = value.isoformat() if isinstance(value, datetime.datetime) else value
    return base64.urlsafe_b64encode(json.dumps({"c": column, "v": raw}).encode()).decode()


def _decode(cursor, column):
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor.encode()).decode())
        if data["c"] != column:
            raise ValueError("cursor of another ordering")
        if column == "id":
            if type(data["v"]) is not int:
                raise ValueError("not an id")
            return data["v"]
        value = parse_datetime(data["v"])
        if value is None or value.tzinfo is None:
            raise ValueError("not a time")
        return value
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeError):
        raise ParseError("invalid cursor")


def keyset_page(request, queryset, query, serialize):
    column, descending = query.column
    if query.cursor is not None:
        after = _decode(query.cursor, column)
        queryset = queryset.filter(**{"%s__%s" % (column, "lt" if descending else "gt"): after})
    rows = list(queryset.order_by(("-" if descending else "") + column)[:PAGE_SIZE + 1])
    page, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    next_url = None
    if more:
        next_url = replace_query_param(request.build_absolute_uri(), "cursor",
                                       _encode(column, getattr(page[-1], column)))
    return Response({"next": next_url, "results": serialize(page)})
