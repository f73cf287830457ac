from django.core.management.base import BaseCommand, CommandError

from schools.models import Country
from schools.services import SetupRefused, organiser_create


class Command(BaseCommand):
    help = (
        "Create an organiser (huvudman / skoleeier). Its school units, staff and students arrive "
        "with its transfer; give it an administrator with grant_platform_role and an API token "
        "with create_api_token."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="the organiser's name, e.g. 'Exempelby kommun'")
        parser.add_argument(
            "organisation_number",
            help="Swedish organisationsnummer (10 digits) or Norwegian organisasjonsnummer (9)",
        )
        parser.add_argument("time_zone", help="IANA time zone, e.g. Europe/Stockholm")
        parser.add_argument("--country", choices=Country.values, default=Country.SWEDEN)
        parser.add_argument(
            "--external-id",
            default="",
            help="the id the organiser's own systems use (default: the organisation number)",
        )

    def handle(self, *args, **options):
        try:
            organiser = organiser_create(
                actor=None,
                name=options["name"],
                organisation_number=options["organisation_number"],
                time_zone=options["time_zone"],
                country=options["country"],
                external_id=options["external_id"],
            )
        except SetupRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        self.stdout.write(
            f"Created organiser {organiser.name} (external id {organiser.external_id}, "
            f"id {organiser.public_id})."
        )
