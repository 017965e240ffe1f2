from rest_framework import serializers

from .models import Ticket


class TicketSerializer(serializers.ModelSerializer):
    assignee = serializers.SlugRelatedField(slug_field="username", read_only=True)

    class Meta:
        model = Ticket
        fields = ["id", "title", "status", "priority", "created_at", "assignee"]
