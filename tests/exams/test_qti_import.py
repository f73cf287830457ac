"""QTI 3.0 import: a good package, unsupported interactions, malformed and hostile packages."""

from __future__ import annotations

import datetime
import io
import zipfile

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from exams.definitions.qti_import import import_package
from exams.definitions.scoring import score_item
from exams.models import DefinitionStatus, ItemAsset, ItemKind, TestDefinition
from tests.exams import qti_packages as q
from tests.factories import UserFactory
from tests.zip_helpers import understate_entry


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def operator(db):
    return UserFactory(username="operator", is_platform_operator=True)


def test_good_package_becomes_a_draft_test_with_subtests_items_and_an_image(operator):
    # when
    report = import_package(actor=operator, file=q.good_package())

    # then
    assert report.errors == [] and report.refused == []
    test = report.test
    assert test.status == DefinitionStatus.DRAFT
    assert test.code == "np-ma-qti" and test.title == "Prov i matematik (QTI)"
    subtests = list(test.subtests.order_by("position"))
    assert [s.code for s in subtests] == ["A", "B"]
    assert subtests[0].duration_minutes == 40
    items = {i.identifier: i for i in test.subtests.get(code="A").items.all()}
    items |= {i.identifier: i for i in test.subtests.get(code="B").items.all()}
    assert items["q-single"].kind == ItemKind.SINGLE_CHOICE
    assert items["q-single"].answer_key == ["B"]
    assert items["q-multiple"].kind == ItemKind.MULTIPLE_CHOICE
    assert items["q-multiple"].max_points == 2
    assert items["q-text"].kind == ItemKind.TEXT_ENTRY
    assert set(items["q-text"].answer_key) == {"Oslo", "Christiania"}
    assert items["q-numeric"].kind == ItemKind.NUMERIC
    assert items["q-numeric"].answer_key["value"] == 1.75
    assert items["q-essay"].kind == ItemKind.EXTENDED_TEXT
    assert items["q-essay"].max_points == 3
    # the scorer's rubric becomes scoring criteria and is never shown in the item
    assert "metod" in items["q-essay"].scoring_criteria
    assert "metod" not in items["q-essay"].content_html
    assert "<script" not in items["q-essay"].content_html
    assert "Visa dina beräkningar." in items["q-essay"].content_html
    # the image is an asset of the test and the item points at it
    asset = ItemAsset.objects.get(test=test)
    assert asset.path == "images/diagram.png"
    url = reverse("exams-asset", kwargs={"asset": asset.public_id})
    assert f'src="{url}"' in items["q-single"].content_html
    # imported keys score as the package says
    assert score_item(items["q-multiple"], ["C", "A"]) == 2
    assert score_item(items["q-text"], "  oslo ") == 1
    assert score_item(items["q-numeric"], "1,75") == 1


def test_unsupported_interactions_are_refused_by_name_and_the_rest_imported(operator):
    report = import_package(actor=operator, file=q.unsupported_package())

    assert report.imported
    refused = {r.identifier: r.reason for r in report.refused}
    assert set(refused) == {"q-hotspot", "q-match"}
    assert "qti-hotspot-interaction is not supported" in refused["q-hotspot"]
    assert "qti-match-interaction is not supported" in refused["q-match"]
    assert [i.identifier for i in report.test.subtests.get().items.all()] == ["q-single"]
    assert any("q-hotspot" in line for line in report.lines())


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"test.xml": "<x/>"}, "no imsmanifest.xml"),
        ({"imsmanifest.xml": "<manifest><resources>"}, "not well-formed"),
        ({"imsmanifest.xml": q.manifest("missing-test.xml")}, "missing-test.xml"),
        (
            {"imsmanifest.xml": q.manifest(), "test.xml": "<qti-assessment-test"},
            "test.xml: not well-formed",
        ),
    ],
    ids=["missing-manifest", "bad-manifest-xml", "manifest-names-missing-file", "bad-test-xml"],
)
def test_malformed_package_imports_nothing_and_says_why(operator, files, expected):
    report = import_package(actor=operator, file=q.build(files))

    assert not report.imported
    assert any(expected in e for e in report.errors), report.errors
    assert not TestDefinition.objects.exists()


def test_item_file_missing_or_malformed_refuses_that_item_only(operator):
    package = q.build(
        {
            "imsmanifest.xml": q.manifest(items=["items/q-single.xml"]),
            "test.xml": q.assessment_test(
                {"A": ["items/q-single.xml", "items/q-gone.xml", "items/q-bad.xml"]}
            ),
            "items/q-single.xml": q.SINGLE,
            "items/q-bad.xml": "<qti-assessment-item><p>",
            "images/diagram.png": q.PNG,
        }
    )
    report = import_package(actor=operator, file=package)

    refused = {r.identifier: r.reason for r in report.refused}
    assert "not in the package" in refused["q-gone"]
    assert "not well-formed" in refused["q-bad"]
    assert report.test.subtests.get().items.count() == 1


def test_not_a_zip_is_refused(operator):
    report = import_package(actor=operator, file=io.BytesIO(b"hello"))
    assert report.errors == ["The file is not a zip package."]


def test_billion_laughs_in_the_manifest_is_refused_before_expansion(operator):
    report = import_package(actor=operator, file=q.build({"imsmanifest.xml": q.BILLION_LAUGHS}))

    assert not report.imported
    assert "imsmanifest.xml: refused, the XML declares a DTD or entities" in report.errors[0]


def test_external_entity_in_an_item_refuses_the_item(operator):
    package = q.build(
        {
            "imsmanifest.xml": q.manifest(items=["items/q-single.xml", "items/q-xxe.xml"]),
            "test.xml": q.assessment_test({"A": ["items/q-single.xml", "items/q-xxe.xml"]}),
            "items/q-single.xml": q.SINGLE,
            "items/q-xxe.xml": q.EXTERNAL_ENTITY_ITEM,
            "images/diagram.png": q.PNG,
        }
    )
    report = import_package(actor=operator, file=package)

    refused = {r.identifier: r.reason for r in report.refused}
    assert "refused, the XML declares a DTD or entities" in refused["q-xxe"]
    assert "root:" not in str(report.test.subtests.get().items.values_list("content_html"))


@pytest.mark.parametrize("name", ["../evil.xml", "/etc/evil.xml", "a/../../evil.xml", "C:/x.xml"])
def test_path_traversal_in_the_zip_is_refused(operator, name):
    report = import_package(actor=operator, file=q.build({name: "<x/>"}))
    assert "Unsafe file name" in report.errors[0]


def test_zip_bomb_is_refused_by_its_compression_ratio(operator):
    package = q.build({"imsmanifest.xml": q.manifest(), "test.xml": b"\0" * (5 * 1024 * 1024)})
    report = import_package(actor=operator, file=package)
    assert "zip bomb" in report.errors[0]


def test_image_missing_from_the_package_refuses_the_item(operator):
    package = q.build(
        {
            "imsmanifest.xml": q.manifest(),
            "test.xml": q.assessment_test({"A": ["items/q-single.xml", "items/q-text.xml"]}),
            "items/q-single.xml": q.SINGLE,
            "items/q-text.xml": q.TEXT,
        }
    )
    report = import_package(actor=operator, file=package)
    refused = {r.identifier: r.reason for r in report.refused}
    assert "image ../images/diagram.png is not in the package" in refused["q-single"]


def test_import_qti_command_prints_created_and_refused(operator, tmp_path, capsys):
    path = tmp_path / "package.zip"
    path.write_bytes(q.unsupported_package().getvalue())

    call_command("import_qti", str(path), "--operator", "operator")

    out = capsys.readouterr().out
    assert "Created Prov i matematik (QTI)" in out
    assert "q-hotspot" in out and "qti-hotspot-interaction" in out


def test_import_qti_command_fails_when_nothing_is_imported(operator, tmp_path):
    path = tmp_path / "bad.zip"
    path.write_bytes(q.build({"imsmanifest.xml": q.BILLION_LAUGHS}).getvalue())

    with pytest.raises(CommandError):
        call_command("import_qti", str(path), "--operator", "operator")


def test_operator_imports_through_the_browser_and_sees_the_report(client, operator):
    client.force_login(operator)
    package = q.unsupported_package()
    response = client.post(
        reverse("exams-operator-qti"),
        {
            "package": package,
            "programme": "se_national",
            "subject": "Matematik",
            "grade": 9,
            "window_start": "2027-04-05",
            "window_end": "2027-04-16",
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "q-hotspot" in page and "qti-hotspot-interaction" in page
    assert TestDefinition.objects.filter(status=DefinitionStatus.DRAFT).count() == 1


def test_qti_upload_page_is_404_for_a_head_teacher(client, world):
    from schools.roles import Role

    client.force_login(world.staff[Role.HEAD_TEACHER])
    assert client.get(reverse("exams-operator-qti")).status_code == 404
    assert client.post(reverse("exams-operator-qti"), {}).status_code == 404


def test_zip_stored_without_compression_still_imports(operator):
    files = {
        "imsmanifest.xml": q.manifest(),
        "test.xml": q.assessment_test({"A": ["items/q-text.xml"]}),
        "items/q-text.xml": q.TEXT,
    }
    report = import_package(actor=operator, file=q.build(files, compression=zipfile.ZIP_STORED))
    assert report.imported


# --- nothing unsupported is dropped silently ---------------------------------------------------


def _refused(report) -> dict[str, str]:
    return {r.identifier: r.reason for r in report.refused}


@pytest.mark.parametrize(
    ("markup", "name"),
    [
        ('<audio controls=""><source src="media/q.mp3" type="audio/mpeg"/></audio>', "sound"),
        ('<video src="media/q.mp4">Film</video>', "video"),
        ('<object data="media/q.pdf" type="application/pdf">PDF</object>', "object"),
        ('<iframe src="https://example.org/"></iframe>', "iframe"),
    ],
)
def test_media_the_sanitiser_would_strip_refuses_the_item_by_name(operator, markup, name):
    report = import_package(
        actor=operator, file=q.single_item_package(q.essay_item("q-x", f"<p>Lyssna.</p>{markup}"))
    )

    assert f"{name}" in _refused(report)["q-x"]
    reason = _refused(report)["q-x"]
    assert "not supported" in reason or "not in the package" in reason
    assert [i.identifier for i in report.test.subtests.get().items.all()] == ["q-text"]


def test_other_unknown_markup_is_reported_as_a_warning_naming_the_element(operator):
    item_xml = q.essay_item("q-x", "<section><p>Text som behålls.</p></section>")

    report = import_package(actor=operator, file=q.single_item_package(item_xml))

    assert report.refused == []
    assert any("q-x: section is not supported" in w for w in report.warnings), report.warnings
    item = report.test.subtests.get().items.get(identifier="q-x")
    assert "Text som behålls." in item.content_html and "<section" not in item.content_html


def test_a_stimulus_ref_puts_the_sanitised_passage_in_front_of_the_item(operator):
    passage = q.stimulus(
        "st-1",
        '<h2>Vargen</h2><p>Vargen är ett rovdjur.</p><img src="img/varg.png" alt="Varg"/>'
        "<script>alert(1)</script>",
    ).replace("<qti-stimulus-body>", '<qti-stylesheet href="s.css"/><qti-stimulus-body>')
    item_xml = q.essay_item(
        "q-x",
        "<p>Vad äter vargen?</p>",
        before_body='<qti-assessment-stimulus-ref identifier="st-1" href="../stimuli/st-1.xml"/>',
    )

    report = import_package(
        actor=operator,
        file=q.single_item_package(
            item_xml, {"stimuli/st-1.xml": passage, "stimuli/img/varg.png": q.PNG}
        ),
    )

    assert report.refused == [], report.refused
    html = report.test.subtests.get().items.get(identifier="q-x").content_html
    assert html.index("Vargen är ett rovdjur.") < html.index("Vad äter vargen?")
    assert "<script" not in html
    assert "q-x: stimulus ../stimuli/st-1.xml: qti-stylesheet left out" in report.warnings
    asset = ItemAsset.objects.get(test=report.test)
    assert asset.path == "stimuli/img/varg.png"
    assert reverse("exams-asset", kwargs={"asset": asset.public_id}) in html


def test_a_stimulus_missing_from_the_package_refuses_the_item(operator):
    item_xml = q.essay_item(
        "q-x",
        "<p>Vad äter vargen?</p>",
        before_body='<qti-assessment-stimulus-ref identifier="st-1" href="../stimuli/st-1.xml"/>',
    )

    report = import_package(actor=operator, file=q.single_item_package(item_xml))

    assert "stimulus ../stimuli/st-1.xml is not in the package" in _refused(report)["q-x"]


def test_a_randomised_item_with_template_declarations_is_refused_by_name(operator):
    item_xml = q.essay_item(
        "q-x",
        "<p>Beräkna a + b.</p>",
        before_body=(
            '<qti-template-declaration identifier="A" cardinality="single" base-type="integer"/>'
            '<qti-template-processing><qti-set-template-value identifier="A">'
            '<qti-random-integer min="1" max="9"/></qti-set-template-value>'
            "</qti-template-processing>"
        ),
    )

    report = import_package(actor=operator, file=q.single_item_package(item_xml))

    reason = _refused(report)["q-x"]
    assert "qti-template-declaration" in reason and "qti-template-processing" in reason


def test_selection_ordering_and_weights_are_reported_by_name(operator):
    test_xml = (
        f'<?xml version="1.0" encoding="UTF-8"?><qti-assessment-test xmlns="{q.NS}" '
        'identifier="sel" title="Urval"><qti-test-part identifier="P1" '
        'navigation-mode="linear" submission-mode="individual">'
        '<qti-assessment-section identifier="A" title="A" visible="true">'
        '<qti-selection select="1"/><qti-ordering shuffle="true"/>'
        '<qti-assessment-item-ref identifier="q-text" href="items/q-text.xml">'
        '<qti-weight identifier="W2" value="2"/></qti-assessment-item-ref>'
        '<qti-assessment-section identifier="A1" title="A1" visible="true">'
        '<qti-time-limits max-time="600"/>'
        '<qti-assessment-item-ref identifier="q-numeric" href="items/q-numeric.xml">'
        '<qti-time-limits max-time="60"/></qti-assessment-item-ref>'
        "</qti-assessment-section></qti-assessment-section></qti-test-part>"
        '<qti-outcome-processing><qti-set-outcome-value identifier="SCORE"><qti-sum>'
        '<qti-test-variables variable-identifier="SCORE" weight-identifier="W2"/>'
        "</qti-sum></qti-set-outcome-value></qti-outcome-processing></qti-assessment-test>"
    )
    package = q.build(
        {
            "imsmanifest.xml": q.manifest(),
            "test.xml": test_xml,
            "items/q-text.xml": q.TEXT,
            "items/q-numeric.xml": q.NUMERIC,
        }
    )

    report = import_package(actor=operator, file=package)

    warnings = "\n".join(report.warnings)
    assert "section A: qti-selection (select 1) is not supported; all its 2 items" in warnings
    assert "section A: qti-ordering (shuffle) is not supported" in warnings
    assert "item q-text: qti-weight W2 (2) is not applied" in warnings
    assert "the test: qti-outcome-processing not read" in warnings
    assert "section A1: qti-time-limits not applied" in warnings
    assert "item q-numeric: qti-time-limits not applied" in warnings
    # what was imported is what the report says: every item, unweighted
    assert report.test.subtests.get().items.count() == 2


def test_a_second_test_in_the_manifest_is_reported_by_name(operator):
    extra = (
        '<resource identifier="t2" type="imsqti_test_xmlv3p0" href="test2.xml">'
        '<file href="test2.xml"/></resource>'
    )
    package = q.build(
        {
            "imsmanifest.xml": q.manifest(extra=extra),
            "test.xml": q.assessment_test({"A": ["items/q-text.xml"]}),
            "test2.xml": q.assessment_test({"B": ["items/q-text.xml"]}, identifier="other"),
            "items/q-text.xml": q.TEXT,
        }
    )

    report = import_package(actor=operator, file=package)

    assert any("second test, test2.xml; only test.xml was imported" in w for w in report.warnings)
    assert report.test.code == "np-ma-qti"


def test_an_item_without_a_declared_max_score_is_reported_by_name(operator):
    files = {
        "imsmanifest.xml": q.manifest(),
        "test.xml": q.assessment_test({"A": ["items/q-numeric.xml", "items/q-text.xml"]}),
        "items/q-numeric.xml": q.NUMERIC,
        "items/q-text.xml": q.TEXT,  # its mapping gives the max score
    }

    report = import_package(actor=operator, file=q.build(files))

    about_max = [w for w in report.warnings if "no maximum score is declared" in w]
    assert about_max == [
        "q-numeric: no maximum score is declared (MAXSCORE, SCORE normal-maximum or a mapping); "
        "counted as 1 point"
    ]
    assert any("q-numeric" in line and "1 point" in line for line in report.lines())


# --- the test window ---------------------------------------------------------------------------


def test_import_uses_the_window_given(operator):
    report = import_package(
        actor=operator,
        file=q.good_package(),
        window_start=datetime.date(2027, 3, 1),
        window_end=datetime.date(2027, 3, 20),
    )

    assert (report.test.window_start, report.test.window_end) == (
        datetime.date(2027, 3, 1),
        datetime.date(2027, 3, 20),
    )


def test_import_qti_command_takes_the_window(operator, tmp_path):
    path = tmp_path / "package.zip"
    path.write_bytes(q.good_package().getvalue())

    call_command(
        "import_qti",
        str(path),
        "--window-start",
        "2027-03-01",
        "--window-end",
        "2027-03-20",
    )

    test = TestDefinition.objects.get()
    assert (test.window_start, test.window_end) == (
        datetime.date(2027, 3, 1),
        datetime.date(2027, 3, 20),
    )


def test_import_qti_command_refuses_a_window_that_ends_before_it_starts(operator, tmp_path):
    path = tmp_path / "package.zip"
    path.write_bytes(q.good_package().getvalue())

    with pytest.raises(CommandError, match="cannot end before it starts"):
        call_command(
            "import_qti", str(path), "--window-start", "2027-03-20", "--window-end", "2027-03-01"
        )
    assert not TestDefinition.objects.exists()


def _upload(client, **window):
    return client.post(
        reverse("exams-operator-qti"),
        {
            "package": q.good_package(),
            "programme": "se_national",
            "subject": "Matematik",
            "grade": 9,
            **window,
        },
    )


def test_the_upload_form_offers_the_window_and_imports_with_it(client, operator):
    client.force_login(operator)
    assert 'name="window_start"' in client.get(reverse("exams-operator-qti")).content.decode()

    response = _upload(client, window_start="2027-04-05", window_end="2027-04-16")

    assert response.status_code == 200
    # the operator sees the warnings of the report, naming the item
    assert "q-single: no maximum score is declared" in response.content.decode()
    test = TestDefinition.objects.get()
    assert (test.window_start, test.window_end) == (
        datetime.date(2027, 4, 5),
        datetime.date(2027, 4, 16),
    )


def test_the_upload_form_refuses_a_window_that_ends_before_it_starts(client, operator):
    client.force_login(operator)

    response = _upload(client, window_start="2027-04-16", window_end="2027-04-05")

    assert response.status_code == 400
    assert "The window cannot end before it starts." in response.content.decode()
    assert not TestDefinition.objects.exists()


SOUND = b"RIFF$\x00\x00\x00WAVEfmt "  # enough of a file for the import


@pytest.mark.parametrize(
    "markup",
    [
        '<audio controls=""><source src="../media/q.wav" type="audio/wav"/></audio>',
        '<audio src="../media/q.wav"/>',
        '<object data="../media/q.wav" type="audio/x-wav">Lyssna</object>',
    ],
)
def test_a_sound_in_the_package_becomes_an_audio_asset_of_the_item(operator, markup):
    report = import_package(
        actor=operator,
        file=q.single_item_package(
            q.essay_item("q-x", f"<p>Lyssna.</p>{markup}"), {"media/q.wav": SOUND}
        ),
    )

    assert _refused(report) == {}
    item = report.test.subtests.get().items.get(identifier="q-x")
    asset = ItemAsset.objects.get(test=report.test, path="media/q.wav")
    assert f'<audio src="/assets/{asset.public_id}/"></audio>' in item.content_html
    assert "<object" not in item.content_html and "<source" not in item.content_html


def test_a_sound_outside_the_package_or_of_another_type_refuses_the_item(operator):
    outside = import_package(
        actor=operator,
        file=q.single_item_package(q.essay_item("q-x", '<audio src="https://example.org/q.mp3"/>')),
    )
    assert "outside the package" in _refused(outside)["q-x"]
    wrong = import_package(
        actor=operator,
        file=q.single_item_package(
            q.essay_item("q-x", '<audio src="../media/q.txt"/>'), {"media/q.txt": b"x"}
        ),
    )
    assert "only" in _refused(wrong)["q-x"]


def test_an_entry_whose_header_understates_its_size_is_refused_not_a_traceback(
    operator, tmp_path, capsys
):
    # given a good package whose test.xml claims to hold 100 bytes
    path = tmp_path / "package.zip"
    path.write_bytes(understate_entry(q.good_package().getvalue(), "test.xml"))

    # when it is imported, then it is refused with its reason, not a traceback
    with pytest.raises(CommandError, match="Nothing was imported"):
        call_command("import_qti", str(path), "--operator", "operator")
    assert "test.xml cannot be read from the package" in capsys.readouterr().out
