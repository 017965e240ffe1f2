from django.urls import path
from rest_framework.routers import DefaultRouter

from . import views

router = DefaultRouter()
router.register("notes", views.NoteViewSet, basename="note")

urlpatterns = [
    path("csrf/", views.csrf),
    path("auth/login/", views.log_in),
    path("auth/logout/", views.log_out),
    path("auth/me/", views.me),
] + router.urls
