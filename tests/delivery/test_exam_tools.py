"""The exam client offers only the tools the subtest allows plus those of the student's
adjustment, and its content carries its own language."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.urls import reverse

from exams.models import Adjustment, AdjustmentKind, Programme, Tool
from tests.delivery.attempt_helpers import local_at, make_sitting, started_attempt

TOOL_BUTTONS = re.compile(r'data-tool="(\w+)"')


@pytest.fixture
def sitting(world):
    with time_machine.travel(local_at(10), tick=False):
        yield make_sitting(world)


def _exam_page(client, world, sitting, person=None) -> str:
    attempt, token = started_attempt(world, sitting, person or world.students_a[0])
    session = client.session
    session["student"] = {"attempt": attempt.pk, "device": token}
    session.save()
    response = client.get(reverse("student-test"))
    assert response.status_code == 200
    return response.content.decode()


def _tools(html: str) -> set[str]:
    return set(TOOL_BUTTONS.findall(html)) - {"stop_speech"}


def _allow(subtest, *, tools=(), permitted_tools=(), adjustments=(AdjustmentKind.TOOLS,)):
    subtest.tools = list(tools)
    subtest.permitted_tools = list(permitted_tools)
    subtest.permitted_adjustments = list(adjustments)
    subtest.save()


def _adjust(world, subtest, person, *, tools=(), other_kinds=()):
    return Adjustment.objects.create(
        school_unit=world.unit,
        person=person,
        test=subtest.test,
        tools=list(tools),
        other_kinds=list(other_kinds),
    )


def test_no_tools_are_offered_when_the_subtest_allows_none(world, sitting, client):
    _allow(sitting.subtest)
    html = _exam_page(client, world, sitting)
    assert _tools(html) == set()
    assert 'id="exam-tools"' not in html


def test_the_subtests_own_tools_are_offered_to_everyone(world, sitting, client):
    _allow(sitting.subtest, tools=[Tool.CALCULATOR, Tool.ENLARGED_TEXT])
    html = _exam_page(client, world, sitting)
    assert _tools(html) == {"calculator", "enlarged_text"}
    assert 'id="tool-calculator"' in html


def test_text_to_speech_is_offered_only_to_the_student_with_the_adjustment(world, sitting, client):
    _allow(sitting.subtest, permitted_tools=[Tool.TEXT_TO_SPEECH])
    with_adjustment, without = world.students_a[0], world.students_a[1]
    _adjust(world, sitting.subtest, with_adjustment, tools=[Tool.TEXT_TO_SPEECH])

    assert _tools(_exam_page(client, world, sitting, with_adjustment)) == {"text_to_speech"}
    assert _tools(_exam_page(client, world, sitting, without)) == set()


def test_an_adjusted_tool_the_subtest_does_not_permit_is_not_offered(world, sitting, client):
    _allow(sitting.subtest, permitted_tools=[Tool.ENLARGED_TEXT])
    person = world.students_a[0]
    _adjust(world, sitting.subtest, person, tools=[Tool.ENLARGED_TEXT, Tool.CALCULATOR])
    assert _tools(_exam_page(client, world, sitting, person)) == {"enlarged_text"}


def test_adjusted_tools_are_not_offered_where_the_subtest_permits_no_tool_adjustment(
    world, sitting, client
):
    _allow(sitting.subtest, permitted_tools=[Tool.CALCULATOR], adjustments=[])
    person = world.students_a[0]
    _adjust(world, sitting.subtest, person, tools=[Tool.CALCULATOR])
    assert _tools(_exam_page(client, world, sitting, person)) == set()


def test_the_dictionary_is_offered_only_where_the_definition_provides_one(world, sitting, client):
    _allow(sitting.subtest, tools=[Tool.DICTIONARY])
    assert _tools(_exam_page(client, world, sitting)) == set()
    sitting.subtest.dictionary = [{"term": "ekorre", "definition": "ett litet djur"}]
    sitting.subtest.save()
    html = _exam_page(client, world, sitting, world.students_a[1])
    assert _tools(html) == {"dictionary"}
    assert "<dt>ekorre</dt><dd>ett litet djur</dd>" in html


def test_spell_check_is_off_in_every_answer_field_unless_the_tool_is_offered(
    world, sitting, client
):
    _allow(sitting.subtest)
    html = _exam_page(client, world, sitting)
    fields = re.findall(r"<(?:textarea|input)[^>]*name=\"answer-[^>]*>", html)
    text_fields = [f for f in fields if "radio" not in f and "checkbox" not in f]
    assert text_fields and all('spellcheck="false"' in f for f in text_fields)


def test_swedish_content_is_marked_swedish_whatever_the_interface_language(world, sitting, client):
    _allow(sitting.subtest, tools=[Tool.TEXT_TO_SPEECH])
    client.cookies["django_language"] = "en"
    html = _exam_page(client, world, sitting)
    assert '<html lang="en">' in html
    contents = re.findall(r'class="exam-item__content"[^>]*lang="([^"]+)"', html)
    assert contents and set(contents) == {"sv"}
    assert 'data-lang="sv"' in html


def test_norwegian_and_english_content_carry_their_own_language(world, client):
    with time_machine.travel(local_at(10), tick=False):
        sitting = make_sitting(world)
        test = sitting.subtest.test
        test.programme = Programme.NO_MAPPING
        test.save()
        html = _exam_page(client, world, sitting)
        assert set(re.findall(r'class="exam-item__content"[^>]*lang="([^"]+)"', html)) == {"nb"}
        # an English test of the Norwegian programme says so in its definition
        sitting.subtest.lang = "en"
        sitting.subtest.save()
        html = client.get(reverse("student-test")).content.decode()
        assert set(re.findall(r'class="exam-item__content"[^>]*lang="([^"]+)"', html)) == {"en"}


def test_the_exam_page_loads_the_tools_script_from_a_file(world, sitting, client):
    _allow(sitting.subtest, tools=[Tool.CALCULATOR])
    html = _exam_page(client, world, sitting)
    assert "js/exam-tools.js" in html
    assert "<style" not in html and " style=" not in html
