"""Permission classes for the notes API."""
from rest_framework import permissions

# Variant: the write rules name the router's write actions only; archive and
# share fall through to the read rule, so readers and staff can use them.
UPDATE_ACTIONS = ("update", "partial_update")


class NotePermission(permissions.BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj):
        user = request.user
        if obj.owner_id == user.pk:
            return True
        if view.action in UPDATE_ACTIONS:
            return False
        if view.action == "destroy":
            return user.is_staff
        return user.is_staff or obj.shared_with.filter(pk=user.pk).exists()
