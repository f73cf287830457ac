"""bulk_insert: the transfer's writer of many rows, on PostgreSQL (CI) and SQLite (embedded)."""

from __future__ import annotations

import datetime

import pytest

from provplattform.bulk import bulk_insert
from schools.models import Person
from tests.factories import OrganiserFactory, PersonFactory

pytestmark = pytest.mark.django_db

KEY = ["organiser", "external_id"]


def _person(organiser, ext: str, given: str, **values) -> Person:
    return Person(
        organiser=organiser, external_id=ext, given_name=given, family_name="Ek", **values
    )


def test_new_rows_arrive_whole_with_their_stamps_and_public_ids():
    organiser = OrganiserFactory()
    rows = [
        _person(organiser, f"p{n}", f"Elev{n}", birth_date=datetime.date(2011, 3, 15))
        for n in range(7)
    ]
    rows[3].protected_identity = True

    bulk_insert(Person, rows, unique_fields=KEY, update_fields=["given_name"], batch_size=3)

    stored = {p.external_id: p for p in Person.objects.filter(organiser=organiser)}
    assert sorted(stored) == [f"p{n}" for n in range(7)]
    assert stored["p3"].protected_identity and not stored["p2"].protected_identity
    assert stored["p5"].given_name == "Elev5"
    assert stored["p5"].birth_date == datetime.date(2011, 3, 15)
    assert all(p.created and p.modified for p in stored.values())
    assert len({p.public_id for p in stored.values()}) == 7


def test_a_conflict_updates_only_the_named_fields():
    existing = PersonFactory(given_name="Gammal", email="old@example.org")
    created = Person.objects.get(pk=existing.pk).created

    bulk_insert(
        Person,
        [_person(existing.organiser, existing.external_id, "Ny", email="new@example.org")],
        unique_fields=KEY,
        update_fields=["given_name", "modified"],
    )

    stored = Person.objects.get(pk=existing.pk)
    assert stored.given_name == "Ny"
    assert stored.email == "old@example.org"  # not named: kept
    assert stored.created == created
    assert stored.modified > created
    assert Person.objects.filter(organiser=existing.organiser).count() == 1


def test_a_conflict_without_fields_to_update_changes_nothing():
    existing = PersonFactory(given_name="Kvar")

    bulk_insert(
        Person, [_person(existing.organiser, existing.external_id, "Annan")], unique_fields=KEY
    )

    assert Person.objects.get(pk=existing.pk).given_name == "Kvar"
