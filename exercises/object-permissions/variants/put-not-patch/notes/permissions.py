"""Permission classes for the notes API."""
from rest_framework import permissions


# Variant: the write check lists PUT and POST but forgets PATCH.
class IsOwnerOrReadOnly(permissions.BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj):
        user = request.user
        if request.method in permissions.SAFE_METHODS:
            return (
                obj.owner == user
                or user.is_staff
                or obj.shared_with.filter(pk=user.pk).exists()
            )
        if request.method == "DELETE":
            return obj.owner == user or user.is_staff
        if request.method in ("PUT", "POST"):
            return obj.owner == user
        return True
