"""Views of the notes API, used by the single-page app on https://app.example.test."""
import json

from django.contrib.auth import authenticate, login, logout
from django.http import JsonResponse
from django.middleware.csrf import get_token
from django.views.decorators.http import require_GET, require_POST
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from .models import Note
from .serializers import NoteSerializer


class NoteViewSet(viewsets.ModelViewSet):
    serializer_class = NoteSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return Note.objects.filter(owner=self.request.user)

    def perform_create(self, serializer):
        serializer.save(owner=self.request.user)

    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        note = self.get_object()
        note.is_archived = True
        note.save(update_fields=["is_archived"])
        return Response(NoteSerializer(note).data)


# Plain Django views: CsrfViewMiddleware checks them (DRF's views are exempt
# from it and check CSRF only for session-authenticated users).

@require_GET
def csrf(request):
    return JsonResponse({"csrfToken": get_token(request)})


@require_POST
def log_in(request):
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        data = request.POST
    if not isinstance(data, dict):
        return JsonResponse({"detail": "Expected an object."}, status=400)
    user = authenticate(request, username=data.get("username"), password=data.get("password"))
    if user is None:
        return JsonResponse({"detail": "Wrong username or password."}, status=400)
    login(request, user)
    return JsonResponse({"username": user.get_username()})


@require_POST
def log_out(request):
    logout(request)
    return JsonResponse({}, status=200)


@require_GET
def me(request):
    if not request.user.is_authenticated:
        return JsonResponse({"detail": "Not signed in."}, status=403)
    return JsonResponse({"username": request.user.get_username()})
