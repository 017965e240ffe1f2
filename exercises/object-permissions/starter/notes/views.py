from django.shortcuts import get_object_or_404
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from .models import Note
from .serializers import NoteSerializer, ShareSerializer


class NoteViewSet(viewsets.ModelViewSet):
    queryset = Note.objects.all()
    serializer_class = NoteSerializer
    permission_classes = [permissions.IsAuthenticated]

    def perform_create(self, serializer):
        owner = serializer.validated_data.get("owner", self.request.user)
        serializer.save(owner=owner)

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
