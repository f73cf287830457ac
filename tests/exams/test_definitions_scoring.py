"""Machine scoring of each item kind (exams.definitions.scoring.score_item)."""

from __future__ import annotations

import pytest

from exams.definitions.scoring import score_item
from exams.models import Item, ItemKind


def _item(kind, answer_key, points=1, choices=None) -> Item:
    return Item(kind=kind, answer_key=answer_key, max_points=points, choices=choices or [])


@pytest.mark.parametrize(
    ("content", "points"),
    [(["B"], 2), ("B", 2), (["A"], 0), (["A", "B"], 0), ([], 0), (None, 0), ({"x": 1}, 0)],
)
def test_single_choice_scores_only_the_one_correct_choice(content, points):
    assert score_item(_item(ItemKind.SINGLE_CHOICE, ["B"], points=2), content) == points


@pytest.mark.parametrize(
    ("content", "points"),
    [(["A", "C"], 2), (["C", "A"], 2), (["A"], 0), (["A", "C", "D"], 0), ([], 0)],
)
def test_multiple_choice_is_all_or_nothing(content, points):
    assert score_item(_item(ItemKind.MULTIPLE_CHOICE, ["A", "C"], points=2), content) == points


@pytest.mark.parametrize(
    ("content", "points"),
    [
        ("Oslo", 1),
        ("  oslo ", 1),
        ("OSLO", 1),
        ("Christiania", 1),
        ("Bergen", 0),
        ("", 0),
        (None, 0),
        (["Oslo"], 0),
        ("New  York", 1),
    ],
)
def test_text_entry_ignores_case_and_whitespace(content, points):
    item = _item(ItemKind.TEXT_ENTRY, ["Oslo", "Christiania", "new york"])
    assert score_item(item, content) == points


@pytest.mark.parametrize(
    ("content", "points"),
    [
        ("50.3", 1),
        ("50,3", 1),
        ("50,25", 1),
        ("50.4", 1),
        ("50.45", 0),
        ("50,1", 0),
        (" 50,3 ", 1),
        ("fifty", 0),
        ("", 0),
        (None, 0),
        (50.3, 1),
        ("nan", 0),
        ("inf", 0),
    ],
)
def test_numeric_accepts_answers_within_the_tolerance(content, points):
    item = _item(ItemKind.NUMERIC, {"value": 50.3, "tolerance": 0.1})
    assert score_item(item, content) == points


def test_numeric_without_tolerance_needs_the_exact_value_and_accepts_digit_groups():
    item = _item(ItemKind.NUMERIC, {"value": 4080, "tolerance": 0}, points=2)
    assert score_item(item, "4 080") == 2
    assert score_item(item, "4081") == 0
    assert score_item(_item(ItemKind.NUMERIC, {"value": 0.3}), "0,3") == 1


def test_extended_text_is_left_to_a_person():
    assert score_item(_item(ItemKind.EXTENDED_TEXT, []), "Ett långt svar") is None
