from django.urls import path

from . import views

app_name = "accounts"

urlpatterns = [
    path("", views.index, name="index"),
    path("email/", views.email_change, name="email"),
    path("wallets/<str:address>/unlink/", views.wallet_unlink, name="wallet_unlink"),
]
