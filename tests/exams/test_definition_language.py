"""A definition names the language of its content and may give the dictionary tool its words."""

from __future__ import annotations

import copy

import pytest

from exams.definitions.format import export_yaml, parse_definition, read_text
from tests.exams.test_definitions import TODAY, _create, good, media, operator, problems_of  # noqa: F401


def _with(**subtest_fields) -> dict:
    data = copy.deepcopy(good())
    data["subtests"][-1].update(subtest_fields)
    return data


def test_a_test_and_a_subtest_name_their_content_language(operator):  # noqa: F811
    data = _with(lang="en")
    data["lang"] = "sv"
    test = _create(operator, data)
    subtests = list(test.subtests.order_by("position"))
    assert test.lang == "sv"
    assert subtests[-1].content_lang == "en"
    assert subtests[0].content_lang == "sv"


def test_without_a_language_the_programme_decides(operator):  # noqa: F811
    test = _create(operator)
    assert test.subtests.first().content_lang == "sv"


@pytest.mark.parametrize("value", ["Swedish", "sv_SE", "s", "12"])
def test_a_language_that_is_not_a_language_tag_is_refused(value):
    data = good()
    data["lang"] = value
    assert "lang" in problems_of(data)
    assert "subtests[1].lang" in problems_of(
        _with(lang=value)
    ) or "subtests[0].lang" in problems_of(_with(lang=value))


def test_a_dictionary_needs_the_dictionary_tool():
    problems = problems_of(_with(dictionary={"ekorre": "ett litet djur"}))
    assert any(path.endswith(".dictionary") for path in problems)
    assert problems_of(_with(dictionary={"ekorre": "ett litet djur"}, tools=["dictionary"])) == {}


def test_each_dictionary_word_needs_a_definition():
    problems = problems_of(_with(tools=["dictionary"], dictionary=[{"term": "ekorre"}]))
    assert any(path.endswith(".dictionary[0]") for path in problems)


def test_language_and_dictionary_survive_an_export(operator):  # noqa: F811
    data = _with(lang="en", tools=["dictionary"], dictionary={"squirrel": "a small animal"})
    test = _create(operator, data)
    again, problems = parse_definition(read_text(export_yaml(test), name="x.yaml"), today=TODAY)
    assert problems == []
    assert again["subtests"][-1]["lang"] == "en"
    assert again["subtests"][-1]["dictionary"] == [
        {"term": "squirrel", "definition": "a small animal"}
    ]
