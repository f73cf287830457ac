from django.core.management.base import BaseCommand, CommandError

from schools.models import Organiser
from schools.transfer.tokens import api_token_create


class Command(BaseCommand):
    help = "Create an API token for an organiser's system; the token is printed once."

    def add_arguments(self, parser):
        parser.add_argument("organiser", help="the organiser's external id")
        parser.add_argument("name", help="a name for the token, e.g. the sending system")

    def handle(self, *args, **options):
        try:
            organiser = Organiser.objects.get(external_id=options["organiser"])
        except Organiser.DoesNotExist as exc:
            raise CommandError(f"No organiser with external id {options['organiser']!r}.") from exc
        token, plain = api_token_create(organiser=organiser, name=options["name"])
        self.stdout.write(f"Token {token.name!r} for {organiser.name} (shown once):")
        self.stdout.write(plain)
