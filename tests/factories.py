"""Factories for test data. Use these, not hand-built model rows."""

from __future__ import annotations

import datetime

import factory
from django.utils import timezone

from exams import day_passwords
from exams import models as exams
from schools.models import (
    Duty,
    Enrolment,
    Organiser,
    Person,
    SchoolUnit,
    TeachingGroup,
    User,
)

PASSWORD = "correct-horse-battery"


class OrganiserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organiser

    external_id = factory.Sequence(lambda n: f"org-{n}")
    name = factory.Sequence(lambda n: f"Huvudman {n}")
    organisation_number = factory.Sequence(lambda n: f"21200{n:05d}")


class SchoolUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SchoolUnit

    organiser = factory.SubFactory(OrganiserFactory)
    external_id = factory.Sequence(lambda n: f"unit-{n}")
    name = factory.Sequence(lambda n: f"Skola {n}")
    school_unit_code = factory.Sequence(lambda n: f"{10000000 + n}")
    school_types = factory.LazyFunction(lambda: ["GR"])


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    organiser = factory.SubFactory(OrganiserFactory)
    external_id = factory.Sequence(lambda n: f"person-{n}")
    given_name = factory.Sequence(lambda n: f"Förnamn{n}")
    family_name = factory.Sequence(lambda n: f"Efternamn{n}")
    eppn = factory.Sequence(lambda n: f"person{n}@example.org")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class EnrolmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrolment

    person = factory.SubFactory(PersonFactory)
    school_unit = factory.SubFactory(SchoolUnitFactory)
    school_year = 9
    school_type = "GR"


class DutyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Duty

    person = factory.SubFactory(PersonFactory)
    school_unit = factory.SubFactory(SchoolUnitFactory)
    external_id = factory.Sequence(lambda n: f"duty-{n}")
    duty_role = "Lärare"


class TeachingGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TeachingGroup

    school_unit = factory.SubFactory(SchoolUnitFactory)
    external_id = factory.Sequence(lambda n: f"group-{n}")
    name = factory.Sequence(lambda n: f"9{chr(65 + n % 26)}")
    school_year = 9


def staff_member(school_unit: SchoolUnit, *, duty_role: str = "Annan personal", username=None):
    """A transferred member of staff with a login, no roles yet."""
    person = PersonFactory(organiser=school_unit.organiser)
    DutyFactory(person=person, school_unit=school_unit, duty_role=duty_role)
    user = UserFactory(person=person, **({"username": username} if username else {}))
    return user


def student(school_unit: SchoolUnit, *, school_year: int = 9) -> Person:
    person = PersonFactory(organiser=school_unit.organiser)
    EnrolmentFactory(person=person, school_unit=school_unit, school_year=school_year)
    return person


# --- exams --------------------------------------------------------------------------------------


class TestDefinitionFactory(factory.django.DjangoModelFactory):
    __test__ = False  # a factory, though pytest would collect its name as a test class

    class Meta:
        model = exams.TestDefinition

    code = factory.Sequence(lambda n: f"test-{n}")
    programme = exams.Programme.SE_NATIONAL
    title = factory.Sequence(lambda n: f"Nationellt prov {n}")
    subject = "Matematik"
    grade = 9
    status = exams.DefinitionStatus.PUBLISHED
    window_start = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=7))
    window_end = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=30))


class SubtestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = exams.Subtest

    test = factory.SubFactory(TestDefinitionFactory)
    code = factory.Sequence(lambda n: f"D{n}")
    title = factory.Sequence(lambda n: f"Delprov {n}")
    duration_minutes = 45
    permitted_adjustments = factory.LazyFunction(lambda: ["extended_time", "tools"])
    permitted_tools = factory.LazyFunction(lambda: ["text_to_speech", "spell_check"])


class ItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = exams.Item

    subtest = factory.SubFactory(SubtestFactory)
    position = factory.Sequence(lambda n: n)
    identifier = factory.Sequence(lambda n: f"item-{n}")
    kind = exams.ItemKind.SINGLE_CHOICE
    max_points = 1
    content_html = "<p>Vilket svar är rätt?</p>"
    choices = factory.LazyFunction(lambda: [{"id": "A", "html": "Ett"}, {"id": "B", "html": "Två"}])
    answer_key = factory.LazyFunction(lambda: ["B"])


class RoomFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = exams.Room

    school_unit = factory.SubFactory(SchoolUnitFactory)
    name = factory.Sequence(lambda n: f"Sal {n}")


class RegistrationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = exams.Registration

    school_unit = factory.SubFactory(SchoolUnitFactory)
    test = factory.SubFactory(TestDefinitionFactory, mandatory=False)


class AssignmentFactory(factory.django.DjangoModelFactory):
    """A subtest assigned to a student enrolled at the unit (a new one unless given)."""

    class Meta:
        model = exams.Assignment

    school_unit = factory.SubFactory(SchoolUnitFactory)
    subtest = factory.SubFactory(SubtestFactory)
    person = factory.LazyAttribute(lambda o: student(o.school_unit))
    source = exams.AssignmentSource.STUDENT


class SittingFactory(factory.django.DjangoModelFactory):
    """A scheduled sitting tomorrow at 09:00, in a room of its unit."""

    class Meta:
        model = exams.Sitting

    school_unit = factory.SubFactory(SchoolUnitFactory)
    subtest = factory.SubFactory(SubtestFactory)
    room = factory.LazyAttribute(lambda o: RoomFactory(school_unit=o.school_unit))
    starts_at = factory.LazyFunction(
        lambda: (timezone.localtime() + datetime.timedelta(days=1)).replace(
            hour=9, minute=0, second=0, microsecond=0
        )
    )


class AdjustmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = exams.Adjustment

    school_unit = factory.SubFactory(SchoolUnitFactory)
    person = factory.LazyAttribute(lambda o: student(o.school_unit))
    test = factory.SubFactory(TestDefinitionFactory)
    extended_minutes = 15


class ExemptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = exams.Exemption

    school_unit = factory.SubFactory(SchoolUnitFactory)
    person = factory.LazyAttribute(lambda o: student(o.school_unit))
    test = factory.SubFactory(TestDefinitionFactory, programme=exams.Programme.NO_MAPPING)
    ground = exams.ExemptionGround.SPECIAL_EDUCATION
    decision_reference = factory.Sequence(lambda n: f"Vedtak {n}")
    attested_no_significance = True


class PaperReplacementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = exams.PaperReplacement

    school_unit = factory.SubFactory(SchoolUnitFactory)
    subtest = factory.SubFactory(SubtestFactory)
    person = factory.LazyAttribute(lambda o: student(o.school_unit))


class DayPasswordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = exams.DayPassword

    school_unit = factory.SubFactory(SchoolUnitFactory)
    date = factory.LazyAttribute(lambda o: day_passwords.unit_today(o.school_unit))
    password = factory.LazyFunction(day_passwords.generate)
