from django.urls import path

from . import views

urlpatterns = [
    path("ping/<slug:ref>/", views.ping),
    path("boom/<slug:ref>/", views.boom),
    path("private/<slug:ref>/", views.private),
]
