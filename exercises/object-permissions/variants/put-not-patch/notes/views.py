from django.db.models import Q
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .models import Note
from .permissions import IsOwnerOrReadOnly
from .serializers import NoteSerializer, ShareSerializer


class NoteViewSet(viewsets.ModelViewSet):
    serializer_class = NoteSerializer
    permission_classes = [IsOwnerOrReadOnly]

    def get_queryset(self):
        # The list is filtered; single notes are checked by the permission.
        user = self.request.user
        if self.action == "list" and not user.is_staff:
            return Note.objects.filter(Q(owner=user) | Q(shared_with=user)).distinct()
        return Note.objects.all()

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)

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
