"""Listening parts: the server counts each play of an item's sound and refuses one beyond the
definition's limit; the test starts only after the headphone check."""

from __future__ import annotations

import pytest
import time_machine
from django.urls import reverse

from delivery import attempts, devices
from delivery.models import Attempt, AudioPlay
from exams.models import Item
from schools.roles import Role
from tests.delivery.attempt_helpers import local_at, make_sitting, started_attempt

SOUND = '<p>Listen.</p><audio src="/assets/00000000-0000-0000-0000-000000000001/"></audio>'


@pytest.fixture
def sitting(world):
    with time_machine.travel(local_at(10), tick=False):
        sitting = make_sitting(world)
        item = Item.objects.filter(subtest=sitting.subtest).order_by("position").first()
        item.content_html = SOUND
        item.audio_plays = 2
        item.save()
        yield sitting


def _item(sitting) -> Item:
    return Item.objects.filter(subtest=sitting.subtest).order_by("position").first()


def _as_student(client, attempt, token, *, headphones=True):
    session = client.session
    session["student"] = {"attempt": attempt.pk, "device": token}
    if headphones:
        session["headphones_checked"] = attempt.pk
    session.save()


def _play(client, item):
    return client.post(reverse("student-audio-play", args=[item.public_id]))


def test_a_sound_plays_as_often_as_the_definition_allows_and_no_more(world, sitting, client):
    attempt, token = started_attempt(world, sitting)
    _as_student(client, attempt, token)
    item = _item(sitting)

    first, second = _play(client, item), _play(client, item)
    third = _play(client, item)

    assert first.json() == {"used": 1, "limit": 2, "left": 1}
    assert second.json()["left"] == 0
    assert third.status_code == 409 and third.json()["error"] == "no_plays_left"
    assert AudioPlay.objects.get(attempt=attempt, item=item).plays == 2


def test_the_limit_holds_after_a_reload_and_on_another_device(world, sitting, client):
    attempt, token = started_attempt(world, sitting)
    _as_student(client, attempt, token)
    item = _item(sitting)
    _play(client, item)
    _play(client, item)
    attempt, new_token, _ = devices.attempt_login(attempt=attempt)  # another device
    _as_student(client, attempt, new_token)
    page = client.get(reverse("student-test")).content.decode()
    assert f'"{item.public_id}": {{"limit": 2, "used": 2}}' in page
    assert _play(client, item).status_code == 409


def test_a_sound_without_a_limit_plays_every_time(world, sitting, client):
    item = _item(sitting)
    item.audio_plays = None
    item.save()
    attempt, token = started_attempt(world, sitting)
    _as_student(client, attempt, token)
    for _ in range(4):
        assert _play(client, item).status_code == 200


def test_a_paused_or_submitted_test_plays_nothing(world, sitting, client):
    attempt, token = started_attempt(world, sitting)
    _as_student(client, attempt, token)
    attempts.attempt_pause(actor=world.staff[Role.PROCTOR], attempt=attempt)
    assert _play(client, _item(sitting)).status_code == 409
    attempts.attempt_resume(actor=world.staff[Role.PROCTOR], attempt=attempt)
    attempts.attempt_submit(attempt=Attempt.objects.get(pk=attempt.pk))
    assert _play(client, _item(sitting)).status_code == 409
    assert not AudioPlay.objects.filter(plays__gt=0).exists()


def test_an_item_of_another_test_or_without_sound_is_not_found(world, sitting, client):
    attempt, token = started_attempt(world, sitting)
    _as_student(client, attempt, token)
    silent = Item.objects.filter(subtest=sitting.subtest).order_by("position").last()
    other = Item.objects.exclude(subtest=sitting.subtest).first() or silent
    assert _play(client, silent).status_code == 404
    assert _play(client, other).status_code == 404


def test_a_play_needs_the_students_login(world, sitting, client):
    assert _play(client, _item(sitting)).status_code == 401


def test_the_test_page_gives_the_client_the_sound_and_its_plays(world, sitting, client):
    attempt, token = started_attempt(world, sitting)
    _as_student(client, attempt, token)
    page = client.get(reverse("student-test")).content.decode()
    assert '<audio src="/assets/00000000-0000-0000-0000-000000000001/"></audio>' in page
    assert "js/exam-audio.js" in page
    assert f'"{_item(sitting).public_id}": {{"limit": 2, "used": 0}}' in page


def test_a_listening_test_starts_only_after_the_headphone_check(world, sitting, client):
    person = world.students_a[0]
    attempts.attempt_release(actor=world.staff[Role.PROCTOR], sitting=sitting, person=person)
    attempt = Attempt.objects.get(sitting=sitting, person=person)
    attempt, token, _ = devices.attempt_login(attempt=attempt)
    _as_student(client, attempt, token, headphones=False)

    assert client.get(reverse("student-test")).url == reverse("student-wait")
    wait = client.get(reverse("student-wait"))
    assert wait.status_code == 200  # no redirect back and forth
    assert 'id="headphone-check"' in wait.content.decode()
    assert Attempt.objects.get(pk=attempt.pk).started_at is None

    assert client.post(reverse("student-headphones")).status_code == 200
    assert client.get(reverse("student-wait")).url == reverse("student-test")
    assert client.get(reverse("student-test")).status_code == 200
    assert Attempt.objects.get(pk=attempt.pk).started_at is not None


def test_a_test_without_sound_needs_no_headphone_check(world, sitting, client):
    Item.objects.filter(subtest=sitting.subtest).update(content_html="<p>Read.</p>")
    person = world.students_a[0]
    attempts.attempt_release(actor=world.staff[Role.PROCTOR], sitting=sitting, person=person)
    attempt, token, _ = devices.attempt_login(
        attempt=Attempt.objects.get(sitting=sitting, person=person)
    )
    _as_student(client, attempt, token, headphones=False)
    assert client.get(reverse("student-test")).status_code == 200
