from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .models import Note
from .serializers import NoteSerializer, ShareSerializer

# Which notes each action may reach. A note outside the set is a 404: users
# never learn that a note they may not touch exists.
READ_ACTIONS = {"list", "retrieve"}


class NoteViewSet(viewsets.ModelViewSet):
    serializer_class = NoteSerializer
    permission_classes = [permissions.IsAuthenticated]

    def get_queryset(self):
        user = self.request.user
        notes = Note.objects.all()
        if self.action in READ_ACTIONS:
            if user.is_staff:
                return notes
            shared = user.shared_notes.values("pk")
            return notes.filter(owner=user) | notes.filter(pk__in=shared)
        if self.action == "destroy" and user.is_staff:
            return notes
        # update, partial_update, destroy, archive, share and anything added later.
        return notes.filter(owner=user)

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
