from django.urls import path

from . import views

app_name = "discussion"

urlpatterns = [
    path("", views.index, name="index"),
    path("c/<slug:slug>/", views.category, name="category"),
    path("t/<int:pk>/", views.thread, name="thread"),
]
