"""Outside the demo, organisers and the roles beyond the school are set up by commands."""

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from provplattform.models import AuditEvent
from schools.models import Organiser, OrganiserAdministrator, User
from schools.selectors import school_units_visible_to
from schools.services import SetupRefused, organiser_create, platform_login_create
from tests.factories import OrganiserFactory, SchoolUnitFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_create_organiser_creates_and_audits_it():
    call_command("create_organiser", "Exempelby kommun", "212000-0142", "Europe/Stockholm")

    organiser = Organiser.objects.get(name="Exempelby kommun")
    assert organiser.organisation_number == "2120000142"
    assert organiser.external_id == "2120000142"
    assert organiser.time_zone == "Europe/Stockholm"
    event = AuditEvent.objects.get(action="organiser.create")
    assert event.target_id == str(organiser.public_id)
    assert event.after["organisation_number"] == "2120000142"


def test_create_organiser_takes_a_norwegian_organiser_with_its_own_id():
    call_command(
        "create_organiser",
        "Fjellby kommune",
        "974760673",
        "Europe/Oslo",
        "--country",
        "NO",
        "--external-id",
        "fjellby",
    )
    organiser = Organiser.objects.get(external_id="fjellby")
    assert (organiser.country, organiser.time_zone) == ("NO", "Europe/Oslo")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["Exempelby kommun", "2120000143", "Europe/Stockholm"], "not a valid organisation number"),
        (["Exempelby kommun", "2120000142", "Europe/Lund"], "not a known time zone"),
        (["  ", "2120000142", "Europe/Stockholm"], "needs a name"),
        (
            ["Fjellby kommune", "974760674", "Europe/Oslo", "--country", "NO"],
            "not a valid organisation number",
        ),
    ],
)
def test_create_organiser_refuses_bad_input_and_creates_nothing(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("create_organiser", *args)
    assert not Organiser.objects.exists()
    assert not AuditEvent.objects.exists()


def test_create_organiser_refuses_an_organisation_number_taken():
    OrganiserFactory(organisation_number="2120000142")
    with pytest.raises(CommandError, match="already exists"):
        call_command("create_organiser", "Igen", "2120000142", "Europe/Stockholm")
    assert Organiser.objects.count() == 1


def test_create_organiser_refuses_an_external_id_taken():
    OrganiserFactory(external_id="exempelby")
    with pytest.raises(CommandError, match="external id 'exempelby' already exists"):
        call_command(
            "create_organiser",
            "Exempelby",
            "2120000142",
            "Europe/Stockholm",
            "--external-id",
            "exempelby",
        )
    assert Organiser.objects.count() == 1


def test_the_services_refuse_an_unknown_country_and_a_login_without_an_address():
    with pytest.raises(SetupRefused, match="Unknown country"):
        organiser_create(
            actor=None,
            name="Exempelby",
            organisation_number="2120000142",
            time_zone="Europe/Stockholm",
            country="DK",
        )
    with pytest.raises(SetupRefused, match="needs an e-mail address"):
        platform_login_create(actor=None, username="hanna", email="")
    assert not Organiser.objects.exists()
    assert not User.objects.filter(username="hanna").exists()


def test_organiser_administrator_is_granted_and_sees_the_units_of_that_organiser_only():
    # given an organiser with a unit, another organiser, and a user
    organiser = OrganiserFactory(external_id="exempelby")
    unit = SchoolUnitFactory(organiser=organiser)
    SchoolUnitFactory()
    user = UserFactory(username="hanna")
    # when the command grants the role (twice: idempotent)
    call_command("grant_platform_role", "hanna", "--organiser-administrator", "exempelby")
    call_command("grant_platform_role", "hanna", "--organiser-administrator", "exempelby")
    # then they administer exactly that organiser, audited once
    assert list(school_units_visible_to(user)) == [unit]
    assert OrganiserAdministrator.objects.filter(user=user).count() == 1
    event = AuditEvent.objects.get(action="platform_role.grant", target_id=str(user.pk))
    assert event.before["organiser_administrator_of"] == []
    assert event.after["organiser_administrator_of"] == [str(organiser.public_id)]
    assert not User.objects.get(pk=user.pk).is_platform_operator


def test_platform_operator_is_granted_and_audited():
    user = UserFactory(username="olga")
    call_command("grant_platform_role", "olga", "--platform-operator")
    user.refresh_from_db()
    assert user.is_platform_operator
    assert not OrganiserAdministrator.objects.filter(user=user).exists()
    event = AuditEvent.objects.get(action="platform_role.grant")
    assert (event.before["platform_operator"], event.after["platform_operator"]) == (False, True)


def test_a_new_user_is_created_without_password_and_chooses_one_by_mail(client):
    OrganiserFactory(external_id="exempelby")
    call_command(
        "grant_platform_role",
        "hanna",
        "--organiser-administrator",
        "exempelby",
        "--email",
        "hanna@exempelby.example",
    )
    user = User.objects.get(username="hanna")
    assert not user.has_usable_password()
    assert AuditEvent.objects.filter(action="user.create", target_id=str(user.pk)).exists()
    client.post("/password-reset/", {"email": "hanna@exempelby.example"})
    assert [m.to for m in mail.outbox] == [["hanna@exempelby.example"]]


def test_grant_refuses_an_unknown_organiser_or_user_and_changes_nothing():
    UserFactory(username="hanna")
    OrganiserFactory(external_id="exempelby")
    with pytest.raises(CommandError, match="No organiser"):
        call_command("grant_platform_role", "hanna", "--organiser-administrator", "okänd")
    with pytest.raises(CommandError, match="give --email"):
        call_command("grant_platform_role", "nobody", "--platform-operator")
    with pytest.raises(CommandError):
        call_command("grant_platform_role", "hanna")  # a role must be named
    assert not OrganiserAdministrator.objects.exists()
    assert not User.objects.filter(is_platform_operator=True).exists()
    assert not AuditEvent.objects.exists()


def test_grant_refuses_an_existing_user_whose_address_is_not_the_one_given():
    # given a transferred account whose username was mistyped for a new operator's
    UserFactory(username="hanna", email="hanna.larsson@skola.example")
    with pytest.raises(CommandError, match="another e-mail address"):
        call_command(
            "grant_platform_role", "hanna", "--platform-operator", "--email", "hanna@drift.example"
        )
    assert not User.objects.filter(is_platform_operator=True).exists()
    assert not AuditEvent.objects.exists()
    # the right address, in any case, is the same user
    call_command(
        "grant_platform_role",
        "hanna",
        "--platform-operator",
        "--email",
        "Hanna.Larsson@skola.example",
    )
    assert User.objects.get(username="hanna").is_platform_operator
