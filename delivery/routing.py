"""WebSocket routes of the live sitting (appended to provplattform.routing)."""

from django.urls import path

from delivery import consumers

websocket_urlpatterns = [
    path("ws/attempt/<uuid:attempt>/", consumers.AttemptConsumer.as_asgi()),
    path("ws/sitting/<uuid:sitting>/", consumers.SittingConsumer.as_asgi()),
    path("ws/it/<uuid:unit>/", consumers.UnitITConsumer.as_asgi()),
]
