from django.urls import path

from . import views

urlpatterns = [
    path("orders/", views.PlaceOrder.as_view()),
    path("orders/bulk/", views.PlaceBatch.as_view()),
]
