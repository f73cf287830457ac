import pytest
from django.core.management import call_command

from schools.civic_numbers import normalise_civic_number
from schools.demo import DEMO_PASSWORD, seed_schools
from schools.models import Enrolment, Organiser, Person, RoleAssignment, SchoolUnit, TeachingGroup
from schools.roles import Role

pytestmark = pytest.mark.django_db


def _counts():
    return (
        Organiser.objects.count(),
        SchoolUnit.objects.count(),
        TeachingGroup.objects.count(),
        Enrolment.objects.count(),
        Person.objects.count(),
        RoleAssignment.objects.count(),
    )


def test_demo_has_the_promised_shape_and_running_it_again_duplicates_nothing():
    result = seed_schools()
    first = _counts()
    seed_schools()

    assert _counts() == first
    assert first[:4] == (2, 3, 4, 120)
    assert set(Organiser.objects.values_list("country", flat=True)) == {"SE", "NO"}
    held = set(RoleAssignment.objects.values_list("role", flat=True))
    assert held == {r.value for r in Role}
    assert {row["username"] for row in result["logins"]} >= {"rektor", "huvudman", "operator"}


def test_demo_civic_numbers_are_valid_and_logins_work(client):
    seed_schools()
    for person in Person.objects.exclude(civic_number=""):
        assert normalise_civic_number(person.civic_number)
    response = client.post("/login/", {"username": "rektor", "password": DEMO_PASSWORD})
    assert response.status_code == 302
    assert client.get(response["Location"], follow=True).status_code == 200


def test_seed_demo_command_prints_the_logins(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "rektor" in out and DEMO_PASSWORD in out and "Ekskolan" in out
