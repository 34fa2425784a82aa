from django.urls import path

from . import views

app_name = "notifications"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/", views.open_notification, name="open"),
    path("read/", views.read_all, name="read_all"),
    path("preferences/", views.preferences, name="preferences"),
    path("unsubscribe/<str:token>/", views.unsubscribe, name="unsubscribe"),
]

dev_urlpatterns = [
    path("", views.dev_mailbox, name="dev-mailbox"),
    path("<int:pk>/", views.dev_mail, name="dev-mail"),
    path("<int:pk>/html/", views.dev_mail_html, name="dev-mail-html"),
]
