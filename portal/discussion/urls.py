from django.urls import path

from . import views

app_name = "discussion"

urlpatterns = [
    path("", views.index, name="index"),
]
