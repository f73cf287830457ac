"""The Norwegian mapping tests ship with the concern thresholds Udir publishes."""

import io

import pytest

from exams.definitions.demo import DEFINITIONS
from exams.definitions.format import load_file
from results import computation as core

PUBLISHED = {
    "kartlegging-regning-1": (39, {}),
    "kartlegging-regning-2": (41, {}),
    "kartlegging-regning-3": (59, {}),
    "kartlegging-lesing-1": (None, {"1": 12, "2": 11, "3": 9, "4": 8, "5": 9, "6": 5}),
    "kartlegging-lesing-2": (None, {"1": 8, "2": 7, "3": 9, "4": 11}),
    "kartlegging-lesing-3": (None, {"1": 16, "2": 8, "3": 13, "4": 11}),
    "kartlegging-engelsk-3": (None, {"LYTT": 15, "LES": 15}),
    "kartlegging-digital-4": (35, {}),
}


@pytest.mark.parametrize("code", sorted(PUBLISHED))
def test_shipped_definition_carries_the_published_thresholds(code):
    spec, _assets = load_file(DEFINITIONS / f"{code}.yaml")
    test_threshold, subtest_thresholds = PUBLISHED[code]
    assert spec["programme"] == "no_mapping"
    assert spec["concern_threshold"] == test_threshold
    assert {
        s["code"]: s["concern_threshold"] for s in spec["subtests"] if s["concern_threshold"]
    } == (subtest_thresholds)


@pytest.mark.parametrize("code", sorted(PUBLISHED))
def test_at_the_published_threshold_is_below_and_one_more_is_above(code):
    spec, _assets = load_file(DEFINITIONS / f"{code}.yaml")
    rule = core.TestRule(
        subtests=tuple(
            core.SubtestRule(s["code"], s["total_points"], concern_threshold=s["concern_threshold"])
            for s in spec["subtests"]
        ),
        concern_threshold=spec["concern_threshold"],
        band=2,
    )
    for limit_points in (0, 1):
        # every subtest exactly at its threshold (+0 or +1); tests without subtest thresholds
        # put the test's threshold in the first subtest and nothing elsewhere
        given = {}
        for index, s in enumerate(spec["subtests"]):
            limit = s["concern_threshold"]
            if limit is None:
                limit = spec["concern_threshold"] if index == 0 else 0
            given[s["code"]] = core.SubtestInput(
                core.Presence.SAT, points=limit + limit_points, scored=True
            )
        outcome = core.test_outcome(rule, given)
        bands = [p.band for p in outcome.subtests if p.band] + (
            [outcome.band] if outcome.band else []
        )
        expected = core.Band.BELOW if limit_points == 0 else core.Band.JUST_ABOVE
        assert bands and set(bands) == {expected}, (code, limit_points, bands)


@pytest.mark.django_db
def test_load_mapping_tests_publishes_them_once(settings, tmp_path):
    from django.core.management import call_command

    from exams.models import DefinitionStatus, TestDefinition
    from tests.factories import UserFactory

    settings.MEDIA_ROOT = tmp_path
    UserFactory(username="operator", is_platform_operator=True)
    call_command("load_mapping_tests", "--operator", "operator", stdout=io.StringIO())
    call_command("load_mapping_tests", "--operator", "operator", stdout=io.StringIO())
    published = TestDefinition.objects.filter(status=DefinitionStatus.PUBLISHED)
    assert sorted(published.values_list("code", flat=True)) == sorted(PUBLISHED)
    assert published.get(code="kartlegging-regning-3").concern_threshold == 59
