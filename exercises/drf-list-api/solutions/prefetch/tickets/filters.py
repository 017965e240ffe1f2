from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend

ORDERINGS = ("created_at", "-created_at", "id", "-id")
DEFAULT_ORDERING = "-created_at"
STATUSES = ("open", "pending", "closed")
PRIORITIES = ("1", "2", "3", "4")
# cursor belongs to the paginator; it validates it itself.
KNOWN = {"status", "priority", "ordering", "cursor"}


class AllowlistFilter(BaseFilterBackend):
    """Filters by status and priority; any other parameter, or a value outside the allowed ones, is a 400."""

    def filter_queryset(self, request, queryset, view):
        params = request.query_params
        unknown = sorted(set(params) - KNOWN)
        if unknown:
            raise ValidationError({name: "unknown parameter" for name in unknown})
        # Each parameter at most once (query_params.get would take the last).
        errors = {name: "give it once" for name in params if len(params.getlist(name)) > 1}
        for name, allowed in (("status", STATUSES), ("priority", PRIORITIES), ("ordering", ORDERINGS)):
            values = params.getlist(name)
            if len(values) > 1:
                errors[name] = "give it once"
            elif values and values[0] not in allowed:
                errors[name] = "must be one of %s" % ", ".join(allowed)
        if errors:
            raise ValidationError(errors)
        if "status" in params:
            queryset = queryset.filter(status=params["status"])
        if "priority" in params:
            queryset = queryset.filter(priority=int(params["priority"]))
        return queryset


def ordering_of(request):
    return request.query_params.get("ordering", DEFAULT_ORDERING)
