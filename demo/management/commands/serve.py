"""`manage.py serve`: run the platform (HTTP and websockets) under uvicorn.

Static files come from WhiteNoise; with DEBUG on it reads them straight from the static folders,
so no collectstatic is needed for the demo.
"""

import asyncio

from django.conf import settings
from django.core.management.base import BaseCommand

from delivery.sweeper import run_forever


class Command(BaseCommand):
    help = "Serve the platform with uvicorn on provplattform.asgi:application."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--log-level", default="info")

    def handle(self, *args, host: str, port: int, log_level: str, **options):
        import uvicorn  # noqa: PLC0415 - only when serving

        url = f"http://{host}:{port}/"
        self.stdout.write(self.style.SUCCESS(f"Provplattform is running at {url}"))
        self.stdout.write(f"Staff log in at {url}login/ (Ctrl+C stops the server).")
        self.stdout.write(f"Students log in at {url}student/ (with the day password).")
        if settings.DEBUG:
            self.stdout.write("DEBUG is on: static files are served from the source folders.")
        self.stdout.flush()
        server = uvicorn.Server(
            uvicorn.Config(
                "provplattform.asgi:application",
                host=host,
                port=port,
                log_level=log_level,
                # provplattform.shutdown: on SIGTERM sockets close with 1012, requests under way
                # get at most 5 s, then the process finishes its work and always exits.
                lifespan="on",
                timeout_graceful_shutdown=5,
            )
        )
        asyncio.run(_serve_with_sweeper(server))


async def _serve_with_sweeper(server) -> None:
    """The sweeper (silent drops, automatic submit) runs beside the server in one process."""
    sweeper = asyncio.create_task(run_forever())
    try:
        await server.serve()
    finally:
        sweeper.cancel()
