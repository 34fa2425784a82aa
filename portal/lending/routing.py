from django.urls import path

from .consumers import LoanConsumer

websocket_urlpatterns = [path("ws/lending/", LoanConsumer.as_asgi())]
