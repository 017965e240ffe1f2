from django.contrib.auth import get_user_model
from rest_framework import serializers

from .models import Note


class NoteSerializer(serializers.ModelSerializer):
    class Meta:
        model = Note
        fields = ["id", "owner", "title", "body", "is_archived", "shared_with", "created_at"]
        # Ownership is decided here, from the request, not by the client.
        read_only_fields = ["owner", "is_archived", "shared_with", "created_at"]

    def create(self, validated_data):
        validated_data["owner"] = self.context["request"].user
        return super().create(validated_data)


class ShareSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all())
