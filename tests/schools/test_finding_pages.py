"""Each person finds their way in: the student login from the staff login, a favicon, the day
password shown one way, codes in words."""

from __future__ import annotations

import re

from django.urls import reverse

from schools.roles import Role


def test_staff_login_page_links_to_the_student_login(db, client):
    html = client.get(reverse("login")).content.decode()
    assert f'href="{reverse("student-login")}"' in html
    assert "http://testserver/student/" in html


def test_every_page_names_a_favicon(db, client):
    for url in (reverse("login"), reverse("student-login"), reverse("status")):
        html = client.get(url).content.decode()
        assert re.search(r'<link rel="icon" href="[^"]+favicon\.svg"', html), url


def test_favicon_file_exists():
    from django.contrib.staticfiles import finders

    assert finders.find("favicon.svg")


def test_serve_prints_the_student_login_address():
    from pathlib import Path

    source = Path("demo/management/commands/serve.py").read_text()
    assert "student/" in source
    assert "/student/" in Path("README.md").read_text()


def test_status_page_updates_itself_without_meta_refresh(db, client):
    html = client.get(reverse("status")).content.decode()
    assert 'http-equiv="refresh"' not in html
    assert "js/status.js" in html
    assert 'id="status-live"' in html
    assert "<style" not in html


def test_student_pages_have_no_staff_header(db, client):
    html = client.get(reverse("student-login")).content.decode()
    # no link to the staff pages (the brand used to lead a student to the staff login)
    assert 'class="brand" href' not in html
    assert 'class="main-nav"' not in html
    assert 'id="language-select"' in html


def test_adjustment_codes_are_shown_in_words(world, client):
    from exams.models import Adjustment, AdjustmentKind, Tool
    from tests.exams.helpers import subtest_in_window

    subtest = subtest_in_window()
    test = subtest.test
    subtest.permitted_adjustments = [AdjustmentKind.TOOLS, AdjustmentKind.READ_ALOUD]
    subtest.permitted_tools = [Tool.TEXT_TO_SPEECH]
    subtest.save()
    Adjustment.objects.create(
        school_unit=world.unit,
        person=world.students_a[0],
        test=test,
        tools=[Tool.TEXT_TO_SPEECH],
        other_kinds=[AdjustmentKind.READ_ALOUD],
    )
    client.force_login(world.staff[Role.HEAD_TEACHER])
    html = client.get(reverse("exams-adjustments", args=[world.unit.public_id])).content.decode()
    assert "Text to speech" in html and "Read aloud" in html
    assert "text_to_speech" not in html.split("<form", 1)[0]
    assert "read_aloud" not in html.split("<form", 1)[0]


def test_day_password_looks_the_same_on_the_admin_page_and_in_the_proctor_room(world, client):
    from tests.delivery.attempt_helpers import make_sitting

    sitting = make_sitting(world)
    client.force_login(world.staff[Role.HEAD_TEACHER])
    admin = client.get(reverse("exams-day-password", args=[world.unit.public_id])).content.decode()
    room = client.get(reverse("proctor-room", args=[sitting.public_id])).content.decode()
    pattern = (
        r'<p class="day-password-box">.*?'
        r'<strong class="day-password" data-day-password>([^<]+)</strong></p>'
    )
    shown_admin = re.search(pattern, admin, re.S)
    shown_room = re.search(pattern, room, re.S)
    assert shown_admin and shown_room
    assert shown_admin.group(1) == shown_room.group(1)


def test_proctor_notice_list_takes_the_keyboard_focus(world, client):
    from tests.delivery.attempt_helpers import make_sitting

    sitting = make_sitting(world)
    client.force_login(world.staff[Role.PROCTOR])
    html = client.get(reverse("proctor-room", args=[sitting.public_id])).content.decode()
    assert re.search(r'<ul class="notice-list" id="notice-list"[^>]*tabindex="0"', html)
