from django.db.models import Q
from django.shortcuts import get_object_or_404
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .models import Note
from .permissions import NotePermission
from .serializers import NoteSerializer, ShareSerializer


# Variant: detail/update/delete are protected, but the custom actions still
# fetch the note by primary key and share overrides the permission classes.
class NoteViewSet(viewsets.ModelViewSet):
    serializer_class = NoteSerializer
    permission_classes = [NotePermission]

    def get_queryset(self):
        user = self.request.user
        if user.is_staff:
            return Note.objects.all()
        return Note.objects.filter(Q(owner=user) | Q(shared_with=user)).distinct()

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)

    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        note = get_object_or_404(Note, pk=pk)
        note.is_archived = True
        note.save(update_fields=["is_archived"])
        return Response(NoteSerializer(note, context=self.get_serializer_context()).data)

    @action(detail=True, methods=["post"], permission_classes=[permissions.IsAuthenticated])
    def share(self, request, pk=None):
        note = get_object_or_404(Note, pk=pk)
        serializer = ShareSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        note.shared_with.add(serializer.validated_data["user"])
        return Response(NoteSerializer(note, context=self.get_serializer_context()).data)
