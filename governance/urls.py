from django.urls import path

from . import views

app_name = "governance"

urlpatterns = [
    path("", views.index, name="index"),
    path("new/", views.create, name="create"),
    path("preview/", views.preview, name="preview"),
    path("<int:number>/", views.detail, name="detail"),
    path("<int:number>/edit/", views.edit, name="edit"),
    path("<int:number>/activate/", views.activate, name="activate"),
    path("<int:number>/cancel/", views.cancel, name="cancel"),
    path("<int:number>/execute/", views.execute, name="execute"),
]
