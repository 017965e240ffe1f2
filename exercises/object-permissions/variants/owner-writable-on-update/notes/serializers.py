from django.contrib.auth import get_user_model
from rest_framework import serializers

from .models import Note


class NoteSerializer(serializers.ModelSerializer):
    # Optional so that the mobile client can create a note without it; the
    # admin tool sends it to file notes on someone's behalf.
    owner = serializers.PrimaryKeyRelatedField(
        queryset=get_user_model().objects.all(), required=False
    )

    class Meta:
        model = Note
        fields = ["id", "owner", "title", "body", "is_archived", "shared_with", "created_at"]
        read_only_fields = ["is_archived", "shared_with", "created_at"]


class ShareSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all())
