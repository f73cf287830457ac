import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "provplattform.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from delivery.consumers import database_guard  # noqa: E402
from delivery.save_api import with_save_route  # noqa: E402
from grading.score_route import with_score_route  # noqa: E402
from provplattform.routing import websocket_urlpatterns  # noqa: E402
from provplattform.shutdown import with_lifespan  # noqa: E402

application = with_lifespan(
    ProtocolTypeRouter(
        {
            # On PostgreSQL the autosave and the score save are answered before Django's
            # middleware stack.
            "http": with_score_route(with_save_route(django_asgi_app)),
            # A socket opened while the database is away is asked to reconnect (close 1013).
            "websocket": database_guard(
                AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns)))
            ),
        }
    )
)
