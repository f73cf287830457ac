"""WebSocket routes; each app adds its own patterns here."""

from delivery.routing import websocket_urlpatterns as delivery_websocket_urlpatterns

websocket_urlpatterns: list = []
websocket_urlpatterns += delivery_websocket_urlpatterns
