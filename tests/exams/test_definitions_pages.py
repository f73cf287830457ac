"""Operator pages and the definitions API: who may see and do what."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from exams.definitions.demo import DEFINITIONS
from exams.models import DefinitionStatus, TestDefinition
from schools.roles import Role
from tests.factories import (
    ItemFactory,
    SubtestFactory,
    UserFactory,
)
from tests.factories import TestDefinitionFactory as DefinitionFactory


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def operator(db):
    return UserFactory(username="operator", is_platform_operator=True)


@pytest.fixture
def draft(db):
    test = DefinitionFactory(status=DefinitionStatus.DRAFT, title="Utkast i svenska")
    subtest = SubtestFactory(test=test, code="B")
    ItemFactory(subtest=subtest, identifier="b1", content_html="<p>Vilket svar är rätt?</p>")
    return test


def _pages(test):
    return [
        ("get", reverse("exams-operator-tests")),
        ("get", reverse("exams-operator-test", args=[test.public_id])),
        ("get", reverse("exams-operator-export", args=[test.public_id])),
        ("get", reverse("exams-operator-qti")),
        ("get", reverse("exams-operator-upload")),
        ("post", reverse("exams-operator-publish", args=[test.public_id])),
        ("post", reverse("exams-operator-retire", args=[test.public_id])),
        ("post", reverse("exams-operator-new-version", args=[test.public_id])),
    ]


@pytest.mark.parametrize("role", [Role.HEAD_TEACHER, Role.TEST_ADMINISTRATOR, Role.PROCTOR])
def test_operator_pages_are_404_for_school_staff(client, world, draft, role):
    client.force_login(world.staff[role])
    for method, url in _pages(draft):
        assert getattr(client, method)(url).status_code == 404, url
    draft.refresh_from_db()
    assert draft.status == DefinitionStatus.DRAFT
    assert TestDefinition.objects.count() == 1


def test_operator_pages_ask_anonymous_visitors_to_log_in(client, draft):
    response = client.get(reverse("exams-operator-tests"))
    assert response.status_code == 302


def test_operator_lists_tests_and_previews_items(client, operator, draft):
    client.force_login(operator)
    listing = client.get(reverse("exams-operator-tests")).content.decode()
    assert "Utkast i svenska" in listing and "v1" in listing

    detail = client.get(reverse("exams-operator-test", args=[draft.public_id])).content.decode()
    assert "<p>Vilket svar är rätt?</p>" in detail
    assert "✓ B" in detail


def test_operator_publishes_retires_and_makes_a_new_version_from_the_page(client, operator, draft):
    client.force_login(operator)
    client.post(reverse("exams-operator-publish", args=[draft.public_id]))
    draft.refresh_from_db()
    assert draft.status == DefinitionStatus.PUBLISHED

    response = client.post(reverse("exams-operator-new-version", args=[draft.public_id]))
    new = TestDefinition.objects.get(version=2)
    assert response.url == reverse("exams-operator-test", args=[new.public_id])

    client.post(reverse("exams-operator-retire", args=[draft.public_id]))
    draft.refresh_from_db()
    assert draft.status == DefinitionStatus.RETIRED


def test_publishing_twice_shows_the_refusal(client, operator, draft):
    client.force_login(operator)
    client.post(reverse("exams-operator-publish", args=[draft.public_id]))
    response = client.post(reverse("exams-operator-publish", args=[draft.public_id]), follow=True)
    assert "Only a draft can be published." in response.content.decode()


def test_operator_uploads_a_yaml_definition(client, operator):
    client.force_login(operator)
    data = (DEFINITIONS / "kartlegging-lesing-1.yaml").read_bytes()
    upload = io.BytesIO(data)
    upload.name = "lesing.yaml"
    response = client.post(reverse("exams-operator-upload"), {"definition": upload})
    test = TestDefinition.objects.get(code="kartlegging-lesing-1")
    assert response.url == reverse("exams-operator-test", args=[test.public_id])
    assert test.subtests.count() == 6


def test_an_invalid_upload_lists_each_problem_with_its_path(client, operator):
    client.force_login(operator)
    upload = io.BytesIO(b"code: x\ntitle: T\nprogramme: mars\nsubtests: []\n")
    upload.name = "bad.yaml"
    response = client.post(reverse("exams-operator-upload"), {"definition": upload})
    page = response.content.decode()
    assert response.status_code == 400
    assert "programme: Use one of" in page
    assert "subtests: A test needs at least one subtest." in page
    assert not TestDefinition.objects.exists()


# --- assets -----------------------------------------------------------------------------------


def test_draft_images_are_only_for_the_operator(client, operator):
    from exams.definitions.qti_import import import_package
    from tests.exams import qti_packages as q

    report = import_package(actor=operator, file=q.good_package())
    asset = report.test.assets.get()
    url = reverse("exams-asset", args=[asset.public_id])

    assert client.get(url).status_code == 404
    client.force_login(operator)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"


# --- API --------------------------------------------------------------------------------------


def test_staff_of_a_unit_list_published_tests_without_items_or_keys(client, world, draft):
    published = DefinitionFactory(title="Publicerat prov")
    ItemFactory(subtest=SubtestFactory(test=published, code="A"), answer_key=["B"])
    client.force_login(world.staff[Role.TEACHER])

    body = client.get(reverse("api-definitions")).json()

    assert [t["title"] for t in body] == ["Publicerat prov"]
    subtest = body[0]["subtests"][0]
    assert subtest["max_points"] == 1
    assert "items" not in subtest and "answer_key" not in str(body)
    assert client.get(reverse("api-definition", args=[draft.public_id])).status_code == 404


def test_a_user_without_any_role_sees_no_definitions(client, world):
    DefinitionFactory()
    client.force_login(world.outsider)
    assert client.get(reverse("api-definitions")).json() == []


def test_only_the_operator_may_publish_or_create_through_the_api(client, world, operator, draft):
    client.force_login(world.staff[Role.HEAD_TEACHER])
    assert client.post(reverse("api-definition-publish", args=[draft.public_id])).status_code == 404
    assert (
        client.post(reverse("api-definitions"), {}, content_type="application/json").status_code
        == 404
    )

    client.force_login(operator)
    response = client.post(reverse("api-definition-publish", args=[draft.public_id]))
    assert response.status_code == 200 and response.json()["status"] == "published"
    again = client.post(reverse("api-definition-publish", args=[draft.public_id]))
    assert again.status_code == 400


def test_operator_creates_a_draft_through_the_api_and_gets_problems_back(client, operator):
    client.force_login(operator)
    bad = client.post(reverse("api-definitions"), {"code": "x"}, content_type="application/json")
    assert bad.status_code == 400
    assert "title: Required." in bad.json()["problems"]
