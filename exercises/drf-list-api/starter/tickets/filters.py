def apply_filters(queryset, params):
    """Filters and orders the tickets by the query parameters."""
    for key, value in params.items():
        if key in ("page", "ordering"):
            continue
        queryset = queryset.filter(**{key: value})
    return queryset.order_by(params.get("ordering", "-created_at"))
