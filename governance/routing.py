from django.urls import path

from .consumers import ProposalConsumer

websocket_urlpatterns: list = [
    path("ws/proposals/<int:number>/", ProposalConsumer.as_asgi()),
]
