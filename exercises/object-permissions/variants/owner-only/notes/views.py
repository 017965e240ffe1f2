from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .models import Note
from .serializers import NoteSerializer, ShareSerializer


# Variant: safe but over-strict; every route sees only the user's own notes,
# so sharing grants nothing and staff see no one else's notes.
class NoteViewSet(viewsets.ModelViewSet):
    serializer_class = NoteSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        return Note.objects.filter(owner=self.request.user)

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
