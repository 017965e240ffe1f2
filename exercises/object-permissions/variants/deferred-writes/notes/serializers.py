from django.contrib.auth import get_user_model
from rest_framework import serializers

from .models import Note


class NoteSerializer(serializers.ModelSerializer):
    # The owner is always the user who created the note (set in the view);
    # a payload can neither choose nor change it.
    owner = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = Note
        fields = ["id", "owner", "title", "body", "is_archived", "shared_with", "created_at"]
        read_only_fields = ["is_archived", "shared_with", "created_at"]


class ShareSerializer(serializers.Serializer):
    user = serializers.PrimaryKeyRelatedField(queryset=get_user_model().objects.all())
