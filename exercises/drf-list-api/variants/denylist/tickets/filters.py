from rest_framework.exceptions import ValidationError
from rest_framework.filters import BaseFilterBackend

ORDERINGS = ("created_at", "-created_at", "id", "-id")
DEFAULT_ORDERING = "-created_at"
STATUSES = ("open", "pending", "closed")
PRIORITIES = ("1", "2", "3", "4")
# The one field clients must never see or sort by.
HIDDEN = "internal_rank"


class AllowlistFilter(BaseFilterBackend):
    """Refuses anything that touches the hidden field; applies status and priority; ignores the rest."""

    def filter_queryset(self, request, queryset, view):
        params = request.query_params
        if any(name.startswith(HIDDEN) for name in params) or HIDDEN in params.get("ordering", ""):
            raise ValidationError({HIDDEN: "not a public field"})
        errors = {}
        for name, allowed in (("status", STATUSES), ("priority", PRIORITIES)):
            if name in params and params[name] not in allowed:
                errors[name] = "must be one of %s" % ", ".join(allowed)
        if errors:
            raise ValidationError(errors)
        if "status" in params:
            queryset = queryset.filter(status=params["status"])
        if "priority" in params:
            queryset = queryset.filter(priority=int(params["priority"]))
        return queryset


def ordering_of(request):
    # An ordering it does not know falls back to the default.
    value = request.query_params.get("ordering", DEFAULT_ORDERING)
    return value if value in ORDERINGS else DEFAULT_ORDERING
