"""All websocket routes; each app owns its own patterns."""

from governance.routing import websocket_urlpatterns as governance_ws
from portal.discussion.routing import websocket_urlpatterns as discussion_ws
from portal.health.routing import websocket_urlpatterns as health_ws
from portal.feedback.routing import websocket_urlpatterns as feedback_ws
from portal.lending.routing import websocket_urlpatterns as lending_ws
from portal.notifications.routing import websocket_urlpatterns as notifications_ws

websocket_urlpatterns = [*governance_ws, *discussion_ws, *health_ws, *feedback_ws, *notifications_ws, *lending_ws]
