"""Postponing and paper replacement keep the sit-once rule: a student who started the subtest on
the platform is neither moved to the postponed sitting nor recorded as doing it on paper; who
enters the results and the sitting's closing limit carry over."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from exams.models import PaperReplacement, SittingStatus
from exams.preparation.common import ExamRefused
from exams.preparation.decisions import adjustments_lock
from exams.preparation.sittings import (
    paper_replacement_record,
    sitting_postpone,
    sitting_set_result_enterer,
)
from provplattform.models import AuditEvent
from schools.roles import Role
from tests.exams.helpers import at
from tests.exams.test_sittings import TOMORROW, admin, create, prepared

pytestmark = pytest.mark.django_db

LATER = TOMORROW + datetime.timedelta(days=1)


def test_postponing_a_started_sitting_moves_only_students_who_have_not_started(world):
    # given a sitting where the first student has started the subtest
    subtest = prepared(world)
    sitting = create(world, subtest, students=world.students_a).sitting
    started, *waiting = world.students_a
    adjustments_lock(person=started, subtest=subtest)  # what delivery records on the start

    new = sitting_postpone(
        actor=admin(world), sitting=sitting, starts_at=at(LATER, 10), reason="Nätverket nere"
    )

    # then the others move; the started student stays to finish in the old sitting
    assert set(new.placements.values_list("person_id", flat=True)) == {p.pk for p in waiting}
    sitting.refresh_from_db()
    assert list(sitting.placements.values_list("person_id", flat=True)) == [started.pk]
    assert sitting.status == SittingStatus.SCHEDULED and sitting.postponed_to == new
    event = AuditEvent.objects.get(action="sitting.postpone")
    assert event.after["stayed"] == [str(started.public_id)]
    assert sorted(event.after["moved"]) == sorted(str(p.public_id) for p in waiting)


def test_postponing_before_anyone_started_moves_everyone_and_marks_it_postponed(world):
    subtest = prepared(world)
    sitting = create(world, subtest, students=world.students_a).sitting
    new = sitting_postpone(
        actor=admin(world), sitting=sitting, starts_at=at(LATER, 10), reason="Brandlarm"
    )
    sitting.refresh_from_db()
    assert sitting.status == SittingStatus.POSTPONED
    assert new.placements.count() == 3 and sitting.placements.count() == 3


def test_postponing_keeps_who_enters_the_results_and_the_closing_limit(world):
    subtest = prepared(world)
    subtest.on_platform = False
    subtest.save()
    sitting = create(world, subtest, students=world.students_a).sitting
    enterer = world.staff[Role.TEACHER].person
    sitting_set_result_enterer(actor=admin(world), sitting=sitting, person=enterer)
    sitting.closes_at = at(TOMORROW, 12)
    sitting.save()

    new = sitting_postpone(actor=admin(world), sitting=sitting, starts_at=at(LATER, 10), reason="x")

    assert new.results_entered_by == enterer
    assert timezone.localtime(new.closes_at) == timezone.localtime(at(LATER, 13))


def test_paper_replacement_refused_for_a_student_who_started_on_the_platform(world):
    subtest = prepared(world)
    pupil = world.students_a[0]
    adjustments_lock(person=pupil, subtest=subtest)
    with pytest.raises(ExamRefused, match="started this subtest on the platform"):
        paper_replacement_record(
            actor=admin(world), school_unit=world.unit, subtest=subtest, person=pupil
        )
    assert not PaperReplacement.objects.filter(person=pupil).exists()


def test_a_sitting_may_close_earlier_but_never_before_its_regular_end_or_after_the_day(world):
    subtest = prepared(world)  # 45 minutes, open 08:00-17:00
    for closes in (at(TOMORROW, 9, 30), at(TOMORROW, 17, 30), at(LATER, 12)):
        with pytest.raises(ExamRefused, match="must close between"):
            create(world, subtest, starts_at=at(TOMORROW, 9), closes_at=closes)
    sitting = create(world, subtest, starts_at=at(TOMORROW, 9), closes_at=at(TOMORROW, 12)).sitting
    assert sitting.closes_at == at(TOMORROW, 12)


def test_the_sitting_page_shows_its_closing_limit(client, world):
    subtest = prepared(world)
    sitting = create(world, subtest, starts_at=at(TOMORROW, 9), closes_at=at(TOMORROW, 12)).sitting
    client.force_login(admin(world))
    page = client.get(f"/units/{world.unit.public_id}/prepare/sittings/{sitting.public_id}/")
    assert "closes 12:00: tests still open are submitted then" in page.content.decode()
