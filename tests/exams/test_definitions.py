"""Test definitions: the format and its validation, publishing, versions, freezing, operator-only
writes and sanitised content."""

from __future__ import annotations

import copy
import datetime

import pytest
from django.utils import timezone

from exams.definitions import edit_services, services
from exams.definitions.content import sanitise_html
from exams.definitions.demo import DEFINITIONS, load_demo_definitions
from exams.definitions.edit_services import item_update, subtest_update
from exams.definitions.format import check_test, export_yaml, load_file, parse_definition, read_text
from exams.definitions.problems import DefinitionInvalid
from exams.definitions.rules import DefinitionRefused
from exams.definitions.services import subtest_freeze
from exams.models import DefinitionStatus, Item, ItemKind, Programme, TestDefinition
from provplattform.models import AuditEvent
from schools.roles import Role
from tests.factories import UserFactory

TODAY = datetime.date(2027, 3, 1)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def operator(db):
    return UserFactory(username="operator", is_platform_operator=True)


def good() -> dict:
    return {
        "code": "np-sv-ak6",
        "title": "Nationellt prov i svenska, årskurs 6",
        "programme": "se_national",
        "subject": "Svenska",
        "grade": 6,
        "window": {"start": "2027-03-10", "end": "2027-04-10"},
        "grade_boundaries": {"E": 2, "C": 4, "A": 6},
        "subtests": [
            {
                "code": "A",
                "title": "Delprov A (muntligt)",
                "on_platform": False,
                "max_points": 3,
            },
            {
                "code": "B",
                "title": "Delprov B",
                "duration_minutes": 60,
                "opening_hours": {"opens": "08:00", "closes": "16:00"},
                "window": {"start": "2027-03-12", "end": "2027-03-20"},
                "tools": ["spell_check"],
                "permitted_adjustments": ["extended_time"],
                "items": [
                    {
                        "id": "b1",
                        "kind": "single_choice",
                        "html": "<p>Vilket ord är ett verb?</p>",
                        "choices": [{"id": "A", "html": "hus"}, {"id": "B", "html": "springa"}],
                        "correct": "B",
                    },
                    {
                        "id": "b2",
                        "kind": "text_entry",
                        "html": "<p>Plural av mus?</p>",
                        "accepted": ["möss"],
                    },
                    {
                        "id": "b3",
                        "kind": "numeric",
                        "html": "<p>Hur många ord?</p>",
                        "value": 7,
                        "tolerance": 0,
                    },
                    {
                        "id": "b4",
                        "kind": "extended_text",
                        "points": 3,
                        "html": "<p>Skriv en berättelse.</p>",
                        "criteria": "Röd tråd.",
                    },
                ],
            },
        ],
    }


def problems_of(data: dict) -> dict[str, str]:
    _spec, problems = parse_definition(data, today=TODAY)
    return {p.path: p.message for p in problems}


# --- the format -------------------------------------------------------------------------------


def test_good_definition_has_no_problems_and_totals_its_points():
    spec, problems = parse_definition(good(), today=TODAY)
    assert problems == []
    assert spec["total_points"] == 3 + 1 + 1 + 1 + 3
    assert spec["subtests"][1]["opens_at"] == datetime.time(8, 0)
    assert spec["subtests"][1]["items"][0]["answer_key"] == ["B"]


def test_relative_dates_count_from_today():
    data = good() | {"window": {"start": "today", "end": "+30d"}}
    data["subtests"][1]["window"] = {"start": "+2d", "end": "+9d"}
    spec, problems = parse_definition(data, today=TODAY)
    assert problems == []
    assert spec["window_start"] == TODAY
    assert spec["window_end"] == TODAY + datetime.timedelta(days=30)
    assert spec["subtests"][1]["window_start"] == TODAY + datetime.timedelta(days=2)


def _mutate(change) -> dict:
    data = copy.deepcopy(good())
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "path", "words"),
    [
        (
            lambda d: d.update(window={"start": "2027-04-10", "end": "2027-03-10"}),
            "window",
            "before the start",
        ),
        (
            lambda d: d["subtests"][1].update(window={"start": "2027-03-01", "end": "2027-03-20"}),
            "subtests[1].window",
            "inside the test's window",
        ),
        (
            lambda d: d["subtests"][1].update(opening_hours={"opens": "17:00", "closes": "08:00"}),
            "subtests[1].opening_hours",
            "must be after opens",
        ),
        (
            lambda d: d.update(grade_boundaries={"E": 4, "C": 4, "A": 6}),
            "grade_boundaries.C",
            "more points than E",
        ),
        (
            lambda d: d.update(grade_boundaries={"E": 2, "C": 4, "A": 60}),
            "grade_boundaries.A",
            "more than the test's maximum (9)",
        ),
        (lambda d: d.update(grade_boundaries={"F": 1}), "grade_boundaries.F", "E, D, C, B and A"),
        (
            lambda d: d["subtests"][1]["items"][0].update(correct="E"),
            "subtests[1].items[0].correct",
            '"E" is not one of the choices (A, B)',
        ),
        (
            lambda d: d["subtests"][1]["items"][0].update(correct=["A", "B"]),
            "subtests[1].items[0].correct",
            "exactly one correct",
        ),
        (
            lambda d: d["subtests"][1]["items"][0].update(choices=[{"id": "A", "html": "x"}]),
            "subtests[1].items[0].choices",
            "at least two",
        ),
        (
            lambda d: d["subtests"][1]["items"][1].update(accepted=[]),
            "subtests[1].items[1].accepted",
            "at least one accepted",
        ),
        (
            lambda d: d["subtests"][1]["items"][2].update(value="sju"),
            "subtests[1].items[2].value",
            "as a number",
        ),
        (
            lambda d: d["subtests"][1]["items"][2].update(tolerance=-1),
            "subtests[1].items[2].tolerance",
            "≥ 0",
        ),
        (
            lambda d: d["subtests"][1]["items"][3].update(kind="essay"),
            "subtests[1].items[3].kind",
            "Use one of",
        ),
        (
            lambda d: d["subtests"][1]["items"][1].update(id="b1"),
            "subtests[1].items[1].id",
            "used twice",
        ),
        (lambda d: d["subtests"][1].update(items=[]), "subtests[1].items", "at least one item"),
        (
            lambda d: d["subtests"][0].pop("max_points"),
            "subtests[0].max_points",
            "needs max_points",
        ),
        (
            lambda d: d["subtests"][1].update(tools=["abacus"]),
            "subtests[1].tools[0]",
            '"abacus" is unknown',
        ),
        (
            lambda d: d["subtests"][1].update(concern_threshold=3),
            "subtests[1].concern_threshold",
            "Norwegian programme",
        ),
        (lambda d: d.update(mandatory=False), "registration", "registration window"),
        (lambda d: d.pop("title"), "title", "Required"),
        (lambda d: d.update(code="NP Sv"), "code", "lower-case"),
        (
            lambda d: d.update(window={"start": "10 mars", "end": "2027-04-10"}),
            "window.start",
            "is not a date",
        ),
        (
            lambda d: d["subtests"][1]["items"][0].update(html='<p><img src="x.png"></p>'),
            "subtests[1].items[0].html",
            "not one of the test's assets",
        ),
    ],
)
def test_each_kind_of_error_names_its_path(change, path, words):
    problems = problems_of(_mutate(change))
    assert path in problems, problems
    assert words in problems[path]


def test_concern_threshold_above_the_subtests_maximum_is_refused():
    data = _mutate(lambda d: d.update(programme="no_mapping", grade_boundaries={}))
    data["subtests"][1]["concern_threshold"] = 7
    problems = problems_of(data)
    assert "more than the subtest's maximum (6)" in problems["subtests[1].concern_threshold"]


def test_syntax_error_in_a_file_is_one_clear_problem():
    with pytest.raises(DefinitionInvalid) as caught:
        read_text("code: [unclosed", name="x.yaml")
    assert "not valid YAML/JSON" in str(caught.value)


def test_demo_files_are_valid_and_the_norwegian_test_has_the_six_seed_thresholds():
    spec, _assets = load_file(DEFINITIONS / "kartlegging-lesing-1.yaml", today=TODAY)
    thresholds = {s["title"]: s["concern_threshold"] for s in spec["subtests"]}
    assert thresholds == {
        "Å skrive bokstaver": 12,
        "Å finne lyder i ord": 11,
        "Å trekke lyder sammen til ord": 9,
        "Å stave ord": 8,
        "Å lese ord": 9,
        "Å lese er å forstå": 5,
    }
    assert all(
        s["opens_at"] == datetime.time(8) and s["closes_at"] == datetime.time(17)
        for s in spec["subtests"]
    )
    swedish, _assets = load_file(DEFINITIONS / "np-matematik-ak9.yaml", today=TODAY)
    assert [s["code"] for s in swedish["subtests"]] == ["A", "B", "C", "D"]
    assert swedish["subtests"][0]["on_platform"] is False
    assert list(swedish["grade_boundaries"]) == ["E", "D", "C", "B", "A"]


def test_load_demo_definitions_publishes_both_tests_with_open_windows_once(db):
    tests = load_demo_definitions()
    again = load_demo_definitions()

    assert [t.pk for t in tests] == [t.pk for t in again]
    assert TestDefinition.objects.count() == 2
    today = timezone.localdate()
    for test in tests:
        assert test.status == DefinitionStatus.PUBLISHED
        assert test.window_start <= today <= test.window_end
    norwegian = next(t for t in tests if t.programme == Programme.NO_MAPPING)
    assert norwegian.subtests.count() == 6


# --- services ---------------------------------------------------------------------------------


def _create(operator, data=None) -> TestDefinition:
    spec, problems = parse_definition(data or good(), today=TODAY)
    assert problems == []
    return services.test_create(actor=operator, spec=spec)


def test_operator_creates_a_draft_and_publishes_it_with_audit(operator):
    test = _create(operator)
    assert test.status == DefinitionStatus.DRAFT

    services.test_publish(actor=operator, test=test)

    test.refresh_from_db()
    assert test.status == DefinitionStatus.PUBLISHED
    assert test.published_by == operator
    actions = list(
        AuditEvent.objects.filter(target_id=str(test.public_id))
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["definition.create", "definition.publish"]


@pytest.mark.parametrize("role", [Role.HEAD_TEACHER, Role.TEST_ADMINISTRATOR, Role.TEACHER])
def test_school_staff_cannot_create_publish_retire_or_version(world, operator, role):
    test = _create(operator)
    user = world.staff[role]
    spec, _ = parse_definition(good(), today=TODAY)

    for call in (
        lambda: services.test_create(actor=user, spec=spec),
        lambda: services.test_publish(actor=user, test=test),
        lambda: services.test_retire(actor=user, test=test),
        lambda: services.test_new_version(actor=user, test=test),
        lambda: edit_services.test_update(actor=user, test=test, changes={"title": "X"}),
    ):
        with pytest.raises(DefinitionRefused, match="Only the platform operator"):
            call()
    test.refresh_from_db()
    assert test.status == DefinitionStatus.DRAFT and test.title != "X"


def test_publishing_refuses_a_test_that_became_invalid(operator):
    test = _create(operator)
    Item.objects.filter(subtest__test=test, identifier="b1").update(answer_key=["Z"])

    with pytest.raises(DefinitionInvalid) as caught:
        services.test_publish(actor=operator, test=test)

    assert '"Z" is not one of the choices' in str(caught.value)
    test.refresh_from_db()
    assert test.status == DefinitionStatus.DRAFT


def test_an_edit_that_breaks_a_rule_is_refused_and_nothing_changes(operator):
    test = _create(operator)
    with pytest.raises(DefinitionInvalid, match="before the start"):
        edit_services.test_update(
            actor=operator, test=test, changes={"window_end": datetime.date(2027, 3, 1)}
        )
    test.refresh_from_db()
    assert test.window_end == datetime.date(2027, 4, 10)


def test_published_test_can_be_edited_until_someone_sits_a_subtest(operator):
    test = services.test_publish(actor=operator, test=_create(operator))
    item = Item.objects.get(subtest__test=test, identifier="b2")

    item_update(
        actor=operator,
        item=item,
        raw={
            "id": "b2",
            "kind": "text_entry",
            "html": "<p>Plural av mus?</p>",
            "accepted": ["möss", "mössen"],
        },
    )
    item.refresh_from_db()
    assert item.answer_key == ["möss", "mössen"]


def test_after_freeze_items_are_refused_and_a_new_version_takes_the_correction(operator):
    # given a published test whose subtest B someone has started
    test = services.test_publish(actor=operator, test=_create(operator))
    subtest = test.subtests.get(code="B")
    subtest_freeze(subtest=subtest)
    subtest.refresh_from_db()
    first_frozen_at = subtest.frozen_at
    subtest_freeze(subtest=subtest)  # a second start changes nothing
    subtest.refresh_from_db()
    assert subtest.frozen_at == first_frozen_at
    item = subtest.items.get(identifier="b2")
    raw = {"id": "b2", "kind": "text_entry", "html": "<p>Plural?</p>", "accepted": ["möss"]}

    # when the operator corrects an item, then it is refused with a clear message
    with pytest.raises(DefinitionRefused, match=r"items are frozen\. Make a new version"):
        item_update(actor=operator, item=item, raw=raw)
    with pytest.raises(DefinitionRefused, match="frozen"):
        subtest_update(actor=operator, subtest=subtest, changes={"on_platform": False})

    # and a new version copies everything, unfrozen, linked to the old one
    new = services.test_new_version(actor=operator, test=test)
    assert (new.version, new.previous_version, new.status) == (2, test, DefinitionStatus.DRAFT)
    new_subtest = new.subtests.get(code="B")
    assert new_subtest.frozen_at is None
    assert new_subtest.items.count() == subtest.items.count()
    item_update(actor=operator, item=new_subtest.items.get(identifier="b2"), raw=raw)
    item.refresh_from_db()
    assert item.content_html == "<p>Plural av mus?</p>"  # what students saw stays
    services.test_publish(actor=operator, test=new)
    assert check_test(new) == []


def test_retired_test_cannot_be_edited_or_published(operator):
    test = services.test_retire(actor=operator, test=_create(operator))
    with pytest.raises(DefinitionRefused, match="retired"):
        edit_services.test_update(actor=operator, test=test, changes={"title": "Nytt"})
    with pytest.raises(DefinitionRefused, match="Only a draft"):
        services.test_publish(actor=operator, test=test)


def test_same_code_uploaded_again_becomes_the_next_version(operator):
    first = _create(operator)
    second = _create(operator)
    assert (second.version, second.previous_version) == (2, first)


def test_export_yaml_reads_back_to_the_same_definition(operator):
    test = _create(operator)
    data = read_text(export_yaml(test), name="x.yaml")
    spec, problems = parse_definition(data, today=TODAY)
    assert problems == []
    assert [i["identifier"] for i in spec["subtests"][1]["items"]] == ["b1", "b2", "b3", "b4"]


# --- sanitising -------------------------------------------------------------------------------


def test_item_content_is_sanitised_when_created(operator):
    data = good()
    data["subtests"][1]["items"][3]["html"] = (
        '<p onclick="steal()">Skriv<script>alert(1)</script> '
        '<a href="javascript:alert(1)">här</a><img src="x" onerror="alert(1)">'
        '<iframe src="https://evil.example"></iframe></p>'
        "<table><tr><td>1</td></tr></table><math><mn>2</mn></math>"
    )
    data["subtests"][1]["items"][3]["html"] = data["subtests"][1]["items"][3]["html"].replace(
        '<img src="x" onerror="alert(1)">', '<img onerror="alert(1)">'
    )
    test = _create(operator, data)
    html = Item.objects.get(subtest__test=test, identifier="b4").content_html
    for bad in ("script", "alert", "onclick", "onerror", "javascript:", "iframe"):
        assert bad not in html
    assert "<table>" in html and "<math>" in html


@pytest.mark.parametrize(
    "src",
    [
        "https://evil.example/x.png",
        "data:image/png;base64,AAAA",
        "javascript:alert(1)",
        "/assets/other/",
    ],
)
def test_images_may_only_point_at_the_tests_own_assets(src):
    allowed = "/assets/11111111-1111-1111-1111-111111111111/"
    html = sanitise_html(
        f'<img src="{src}" alt="x"><img src="{allowed}" alt="y">', asset_urls=[allowed]
    )
    assert src not in html
    assert f'src="{allowed}"' in html


def test_item_kinds_all_appear_in_the_demo_swedish_test(db):
    load_demo_definitions()
    kinds = set(
        Item.objects.filter(subtest__test__code="np-matematik-ak9").values_list("kind", flat=True)
    )
    assert kinds == set(ItemKind.values)


def _norwegian() -> dict:
    data = copy.deepcopy(good()) | {"programme": "no_mapping"}
    del data["grade_boundaries"]
    return data


@pytest.mark.parametrize(
    "changes",
    [
        {"concern_threshold": 3},
        {"duration_minutes": 50},
        {"permitted_adjustments": []},
        {"max_points": 9},
    ],
)
def test_what_a_frozen_subtest_was_sat_under_cannot_change(operator, changes):
    test = services.test_publish(actor=operator, test=_create(operator, _norwegian()))
    subtest = test.subtests.get(code="B")
    subtest_freeze(subtest=subtest)

    with pytest.raises(
        DefinitionRefused, match="these settings are frozen: " + next(iter(changes))
    ):
        subtest_update(actor=operator, subtest=subtest, changes=changes)

    # an unfrozen subtest of the same test still takes the change
    other = test.subtests.get(code="A")
    if "duration_minutes" not in changes and "permitted_adjustments" not in changes:
        subtest_update(actor=operator, subtest=other, changes=changes)


def test_a_frozen_subtest_keeps_editable_its_opening_hours_and_tools(operator):
    test = services.test_publish(actor=operator, test=_create(operator))
    subtest = test.subtests.get(code="B")
    subtest_freeze(subtest=subtest)
    subtest_update(
        actor=operator,
        subtest=subtest,
        changes={"closes_at": datetime.time(15, 0), "tools": []},
    )
    subtest.refresh_from_db()
    assert (subtest.closes_at, subtest.tools) == (datetime.time(15, 0), [])


@pytest.mark.parametrize(
    "changes",
    [
        {"grade_boundaries": {"E": 1, "C": 4, "A": 6}},
        {"concern_threshold": 2},
        {"grade": 7},
        {"window_end": datetime.date(2027, 4, 20)},
    ],
)
def test_test_level_rules_are_frozen_once_a_subtest_is_sat(operator, changes):
    data = _norwegian() if "concern_threshold" in changes else None
    test = services.test_publish(actor=operator, test=_create(operator, data))

    edit_services.test_update(actor=operator, test=test, changes=changes)  # still allowed

    subtest_freeze(subtest=test.subtests.get(code="B"))
    with pytest.raises(DefinitionRefused, match="these settings are frozen"):
        edit_services.test_update(actor=operator, test=test, changes={"title": "Nytt", **changes})
    test.refresh_from_db()
    assert test.title != "Nytt"
    edit_services.test_update(actor=operator, test=test, changes={"title": "Nytt"})


def test_a_duration_longer_than_the_opening_hours_is_refused():
    def too_long(data):
        data["subtests"][1]["duration_minutes"] = 481  # 08:00–16:00 holds 480

    assert problems_of(_mutate(too_long)) == {
        "subtests[1].duration_minutes": (
            "481 minutes do not fit inside the opening hours (08:00–16:00)."
        )
    }

    def exactly(data):
        data["subtests"][1]["duration_minutes"] = 480

    assert problems_of(_mutate(exactly)) == {}
