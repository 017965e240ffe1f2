"""What a list request may ask for: parsed once, refused as a whole when anything is off."""

from rest_framework.exceptions import ParseError

FILTERS = {
    "status": {"open", "pending", "closed"}.__contains__,
    "priority": lambda v: v in {"1", "2", "3", "4"},
}
# ordering value -> (column, descending)
ORDERINGS = {"created_at": ("created_at", False), "-created_at": ("created_at", True),
             "id": ("id", False), "-id": ("id", True)}


class ListQuery:
    def __init__(self, params):
        self.filters = {}
        self.ordering = "-created_at"
        self.cursor = None
        for name in params:
            values = params.getlist(name)
            if len(values) != 1:
                raise ParseError("%s: give it once" % name)
            value = values[0]
            if name in FILTERS:
                if not FILTERS[name](value):
                    raise ParseError("%s: %r is not an allowed value" % (name, value))
                self.filters[name] = int(value) if name == "priority" else value
            elif name == "ordering":
                if value not in ORDERINGS:
                    raise ParseError("ordering: one of %s" % ", ".join(ORDERINGS))
                self.ordering = value
            elif name == "cursor":
                self.cursor = value
            else:
                raise ParseError("%s: not a parameter of this list" % name)

    @property
    def column(self):
        return ORDERINGS[self.ordering]
