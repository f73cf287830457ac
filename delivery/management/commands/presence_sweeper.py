"""Run the sweeper (silent drops, automatic submit) as its own process, every half second."""

from __future__ import annotations

import asyncio

from django.core.management.base import BaseCommand

from delivery.sweeper import run_forever


class Command(BaseCommand):
    help = "Run the presence sweeper and automatic submit in a loop."

    def add_arguments(self, parser):
        parser.add_argument("--interval", type=float, default=None)

    def handle(self, *args, **options):
        asyncio.run(run_forever(options["interval"], mode="standalone"))
