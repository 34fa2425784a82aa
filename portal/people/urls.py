from django.urls import path

from . import views

app_name = "people"

urlpatterns = [
    path("u/<str:address>/", views.profile, name="profile"),
    path("delegates/", views.directory, name="directory"),
    path("delegates/statement/", views.statement, name="statement"),
    path("delegates/send/", views.signed_send, name="signed_send"),
]
