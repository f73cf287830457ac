from django.core.management.base import BaseCommand, CommandError

from schools.models import Organiser, User
from schools.services import (
    SetupRefused,
    organiser_administrator_grant,
    platform_login_create,
    platform_operator_grant,
)


class Command(BaseCommand):
    help = (
        "Make a user an organiser administrator of an organiser, or a platform operator. "
        "With --email, a user that does not exist yet is created without a password: they choose "
        "one through the password reset link sent to that address."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        role = parser.add_mutually_exclusive_group(required=True)
        role.add_argument(
            "--organiser-administrator",
            metavar="ORGANISER",
            help="the organiser's external id (see create_organiser)",
        )
        role.add_argument("--platform-operator", action="store_true")
        parser.add_argument(
            "--email",
            default="",
            help="e-mail address for a new user; for an existing user it must be theirs",
        )

    def handle(self, *args, **options):
        organiser = None
        if options["organiser_administrator"]:
            organiser = Organiser.objects.filter(
                external_id=options["organiser_administrator"]
            ).first()
            if organiser is None:
                raise CommandError(
                    f"No organiser with external id {options['organiser_administrator']!r}."
                )
        user = User.objects.filter(username=options["username"]).first()
        email = options["email"].strip()
        if user is not None and email and user.email.strip().lower() != email.lower():
            # A mistyped username must not silently promote another (say, transferred) account.
            raise CommandError(
                f"The user {user.username!r} exists with another e-mail address; check the "
                "username, or leave out --email to grant the role to that user."
            )
        try:
            if user is None:
                if not options["email"]:
                    raise CommandError(
                        f"No user {options['username']!r}; give --email to create one."
                    )
                user = platform_login_create(
                    actor=None, username=options["username"], email=options["email"]
                )
                self.stdout.write(
                    f"Created user {user.username}; they choose a password through "
                    "'Forgot your password?' on the login page."
                )
            if organiser is not None:
                changed = organiser_administrator_grant(actor=None, user=user, organiser=organiser)
                role = f"organiser administrator of {organiser.name}"
            else:
                changed = platform_operator_grant(actor=None, user=user)
                role = "platform operator"
        except SetupRefused as refusal:
            raise CommandError(str(refusal)) from refusal
        self.stdout.write(
            f"{user.username} is now {role}." if changed else f"{user.username} already is {role}."
        )
