from django.conf import settings
from django.db import models


class Ticket(models.Model):
    STATUSES = [("open", "open"), ("pending", "pending"), ("closed", "closed")]

    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=STATUSES, default="open")
    # 1 is the most urgent, 4 the least.
    priority = models.PositiveSmallIntegerField(default=2)
    # Unique: two tickets are never created at the same microsecond.
    created_at = models.DateTimeField(unique=True)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    # The support staff's own triage score. Never shown to API clients, and
    # nothing they receive may reveal it.
    internal_rank = models.IntegerField(default=0)

    def __str__(self):
        return self.title
