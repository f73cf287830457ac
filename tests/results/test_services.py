"""Computing results from scores and entries, recomputation after corrections, versions, audit."""

import pytest

from delivery.models import AttemptStatus
from grading.hooks import scores_changed_notify
from provplattform.models import AuditEvent
from results.models import Band, Incomplete, Presence, SubtestResult, TestResult
from results.services import results_compute
from tests.factories import ExemptionFactory
from tests.results.helpers import enter, mapping_test, national_test, score, sit

pytestmark = pytest.mark.django_db


def _test_result(result_set, person):
    return TestResult.objects.get(result_set=result_set, person=person)


def test_mapping_test_results_per_subtest_with_thresholds(world):
    # given a reading test with thresholds 3 and 1 (7 and 4 items), band 2
    test = mapping_test(thresholds=(3, 1), items=(7, 4))
    first, second = test.subtests.order_by("position")
    a, b, c = world.students_a
    for attempt, points in zip(
        sit(world.unit, first, [a, b, c]),
        [[1, 1, 1, 0, 0, 0, 0], [1, 1, 1, 1, 0, 0, 0], [1] * 6 + [0]],
        strict=True,
    ):
        score(attempt, points)
    for attempt, points in zip(
        sit(world.unit, second, [a, b, c]), [[1, 1, 1, 1], [1, 0, 0, 0], [1, 1, 1, 1]], strict=True
    ):
        score(attempt, points)
    # when
    result_set = results_compute(school_unit=world.unit, test=test)
    # then: exactly at the threshold is below, one above just above
    bands = {
        (r.person_id, r.subtest_id): r.band
        for r in SubtestResult.objects.filter(result_set=result_set)
    }
    assert bands[(a.id, first.id)] == Band.BELOW
    assert bands[(b.id, first.id)] == Band.JUST_ABOVE
    assert bands[(c.id, first.id)] == Band.ABOVE
    assert bands[(b.id, second.id)] == Band.BELOW
    assert _test_result(result_set, a).needs_attention
    assert not _test_result(result_set, c).needs_attention
    assert result_set.version == 1
    assert AuditEvent.objects.filter(
        action="results.computed", target_id=str(result_set.public_id)
    ).exists()


def test_unassessed_item_keeps_the_result_incomplete_until_scored(world):
    test = mapping_test()
    first, _second = test.subtests.order_by("position")
    person = world.students_a[0]
    (attempt,) = sit(world.unit, first, [person])
    score(attempt, [1, None, 1, 1, 1])
    result_set = results_compute(school_unit=world.unit, test=test)
    row = SubtestResult.objects.get(result_set=result_set, person=person, subtest=first)
    assert not row.complete and row.incomplete == Incomplete.ITEMS_UNASSESSED
    assert row.points is None and row.band == ""
    assert _test_result(result_set, person).incomplete == Incomplete.NOT_SAT  # second not sat


def test_oral_part_not_entered_then_entered_late_gives_the_grade(
    world, django_capture_on_commit_callbacks
):
    test = national_test()
    written, oral = test.subtests.order_by("position")
    person = world.students_a[0]
    (attempt,) = sit(world.unit, written, [person])
    score(attempt, [1, 1, 1, 1, 1, 0, 0, 0])
    result_set = results_compute(school_unit=world.unit, test=test)
    row = _test_result(result_set, person)
    assert row.incomplete == Incomplete.NOT_ENTERED and row.grade == ""
    # an oral part entered later: the hook recomputes after commit, under a new version
    with django_capture_on_commit_callbacks(execute=True):
        enter(world.unit, oral, person, 3)
        scores_changed_notify(
            school_unit_id=world.unit.id, subtest_ids=[oral.id], person_ids=[person.id]
        )
    result_set.refresh_from_db()
    row = _test_result(result_set, person)
    assert (row.points, row.grade, result_set.version) == (8, "C", 2)
    assert row.version == 2


def test_score_correction_recomputes_and_unchanged_recompute_keeps_version(
    world, django_capture_on_commit_callbacks
):
    test = mapping_test(items=(7, 4))
    first, _second = test.subtests.order_by("position")
    person = world.students_a[0]
    (attempt,) = sit(world.unit, first, [person])
    score(attempt, [1, 1, 1, 0, 0, 0, 0])
    result_set = results_compute(school_unit=world.unit, test=test)
    assert results_compute(school_unit=world.unit, test=test).version == result_set.version
    with django_capture_on_commit_callbacks(execute=True):
        score(attempt, [1] * 7)
        scores_changed_notify(
            school_unit_id=world.unit.id, subtest_ids=[first.id], person_ids=[person.id]
        )
    row = SubtestResult.objects.get(person=person, subtest=first)
    assert (row.points, row.band, row.version) == (7, Band.ABOVE, 2)


def test_absent_and_exempt_are_shown_as_such(world):
    test = mapping_test()
    first, _second = test.subtests.order_by("position")
    absent, exempt, _ = world.students_a
    sit(world.unit, first, [absent], status=AttemptStatus.ABSENT)
    ExemptionFactory(school_unit=world.unit, person=exempt, test=test)
    result_set = results_compute(school_unit=world.unit, test=test)
    assert _test_result(result_set, exempt).presence == Presence.EXEMPT
    row = SubtestResult.objects.get(result_set=result_set, person=absent, subtest=first)
    assert row.presence == Presence.ABSENT and row.incomplete == Incomplete.ABSENT


def test_a_catch_up_sitting_replaces_the_absence(world):
    test = mapping_test()
    first, _ = test.subtests.order_by("position")
    person = world.students_a[0]
    sit(world.unit, first, [person], status=AttemptStatus.ABSENT)
    (attempt,) = sit(world.unit, first, [person])
    score(attempt, [1] * 5)
    results_compute(school_unit=world.unit, test=test)
    row = SubtestResult.objects.get(person=person, subtest=first)
    assert row.presence == Presence.SAT and row.points == 5


def test_recompute_now_after_marking_an_absence(client, world):
    from delivery.models import Attempt
    from schools.roles import Role
    from tests.factories import PASSWORD

    test = mapping_test()
    first, _ = test.subtests.order_by("position")
    person = world.students_a[0]
    (attempt,) = sit(world.unit, first, [person], status=AttemptStatus.WORKING)
    result_set = results_compute(school_unit=world.unit, test=test)
    Attempt.objects.filter(pk=attempt.pk).update(status=AttemptStatus.ABSENT)
    url = f"/units/{world.unit.public_id}/results/{result_set.public_id}/recompute/"
    client.login(username=world.staff[Role.TEACHER].username, password=PASSWORD)
    assert client.post(url).status_code == 404
    client.login(username=world.staff[Role.HEAD_TEACHER].username, password=PASSWORD)
    assert client.post(url).status_code == 302
    row = SubtestResult.objects.get(person=person, subtest=first)
    assert row.presence == Presence.ABSENT
    event = AuditEvent.objects.filter(action="results.computed").latest("id")
    assert event.actor == world.staff[Role.HEAD_TEACHER]
