from django.urls import path

from . import views

urlpatterns = [
    path("siwe/nonce/", views.nonce, name="siwe_nonce"),
    path("siwe/login/", views.login, name="siwe_login"),
]
