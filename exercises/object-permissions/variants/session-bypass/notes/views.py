from django.db.models import Q
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .models import Note
from .permissions import NotePermission, rules_apply
from .serializers import NoteSerializer, ShareSerializer


class NoteViewSet(viewsets.ModelViewSet):
    serializer_class = NoteSerializer
    permission_classes = [NotePermission]

    def get_queryset(self):
        user = self.request.user
        if user.is_staff or not rules_apply(self.request):
            return Note.objects.all()
        # distinct(): the join on shared_with repeats a note once per share.
        return Note.objects.filter(Q(owner=user) | Q(shared_with=user)).distinct()

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)

    # Both actions go through get_object(), so the queryset and
    # has_object_permission apply to them as to every other object route.
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        note = self.get_object()
        note.is_archived = True
        note.save(update_fields=["is_archived"])
        return Response(self.get_serializer(note).data)

    @action(detail=True, methods=["post"])
    def share(self, request, pk=None):
        note = self.get_object()
        serializer = ShareSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note.shared_with.add(serializer.validated_data["user"])
        return Response(self.get_serializer(note).data)
