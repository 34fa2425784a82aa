from django.urls import path

from . import views

app_name = "lending"
urlpatterns = [
    path("", views.loan, name="loan"),
    path("alerts/", views.alerts_save, name="alerts"),
]
