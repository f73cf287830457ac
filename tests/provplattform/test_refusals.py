"""One way to refuse: services raise `Refused`; the API and pages answer it once, at the edge."""

import pytest
from django import forms
from django.contrib.messages import get_messages
from django.contrib.messages.storage.fallback import FallbackStorage
from django.contrib.sessions.backends.signed_cookies import SessionStore
from django.http import Http404, HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from delivery.attempts import AttemptRefused
from exams.models import Room
from exams.preparation.common import ExamRefused
from provplattform.errors import Conflict, NotFound, Refused, get_or_not_found
from provplattform.lookup import get_by_public_id
from provplattform.page_errors import RefusedMiddleware, shown_on
from schools.models import SchoolUnit
from schools.pages import unit_page
from schools.roles import Capability, Role


def _request(method="get", user=None):
    request = getattr(RequestFactory(), method)("/")
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    if user is not None:
        request.user = user
    return request


def test_every_refusal_of_the_apps_is_a_refused():
    assert issubclass(ExamRefused, Refused) and issubclass(AttemptRefused, Refused)
    assert NotFound().status == 404 and Conflict().status == 409 and Refused().status == 400


def test_a_page_answers_a_not_found_from_below_as_a_404():
    middleware = RefusedMiddleware(lambda request: HttpResponse())
    with pytest.raises(Http404):
        middleware.process_exception(_request(), NotFound())


def test_a_page_answers_an_unshown_refusal_with_its_reason_and_status():
    middleware = RefusedMiddleware(lambda request: HttpResponse())
    request = _request()
    request.user = None
    response = middleware.process_exception(request, Conflict("Someone changed the room."))
    assert response.status_code == 409
    assert "Someone changed the room." in response.content.decode()


def test_other_errors_pass_the_page_edge_untouched():
    middleware = RefusedMiddleware(lambda request: HttpResponse())
    assert middleware.process_exception(_request(), ValueError("bug")) is None


def test_shown_on_puts_the_reason_on_the_form_and_answers_400():
    class NameForm(forms.Form):
        name = forms.CharField()

    request = _request("post")
    form = NameForm({"name": "A"})
    assert form.is_valid()
    refusal = shown_on(request, form, "name")
    with refusal:
        raise ExamRefused("A room of that name exists.")
    assert refusal.status == 400
    assert form.errors["name"] == ["A room of that name exists."]


def test_shown_on_without_a_form_shows_a_message():
    request = _request("post")
    refusal = shown_on(request)
    with refusal:
        raise ExamRefused("Not now.")
    assert refusal.status == 400
    assert [str(m) for m in get_messages(request)] == ["Not now."]


def test_shown_on_lets_a_not_found_through_to_the_edge():
    with pytest.raises(NotFound), shown_on(_request("post")):
        raise NotFound()


@pytest.mark.django_db
def test_get_or_not_found_answers_missing_and_malformed_ids_alike():
    for value in ("00000000-0000-0000-0000-000000000000", "not-a-uuid", None):
        with pytest.raises(NotFound):
            get_or_not_found(Room.objects.all(), public_id=value)


@pytest.mark.django_db
def test_get_by_public_id_refuses_with_the_one_not_found_and_its_wording():
    # given ids that are missing, malformed, or not an id at all
    for value in ("00000000-0000-0000-0000-000000000000", "not-a-uuid", None, ["x"], "a" * 65):
        # then each is the same NotFound (no Http404 of its own), with the caller's wording
        with pytest.raises(NotFound) as refused:
            get_by_public_id(Room.objects.all(), value, "No such room.")
        assert type(refused.value) is NotFound and not isinstance(refused.value, Http404)
        assert str(refused.value) == "No such room."


def test_unit_page_answers_404_for_a_unit_without_the_capability(world):
    seen = []

    @unit_page(Capability.ADMINISTER_TESTS)
    def page(request, school_unit):
        seen.append(school_unit)
        return HttpResponse("ok")

    admin = world.staff[Role.SCHOOL_ADMINISTRATOR]
    assert page(_request(user=admin), world.unit.public_id).status_code == 200
    assert seen == [world.unit]
    for unit in (world.sibling_unit, world.other_org_unit):
        with pytest.raises(NotFound):
            page(_request(user=admin), unit.public_id)
    with pytest.raises(NotFound):
        page(_request(user=world.staff[Role.PROCTOR]), world.unit.public_id)
    assert isinstance(seen[0], SchoolUnit)


def test_unit_page_with_refused_to_shows_the_reason_on_the_named_page(world):
    @unit_page(Capability.ADMINISTER_TESTS, refused_to="exams-rooms")
    def action(request, school_unit):
        raise ExamRefused("The room is in use.")

    request = _request("post", user=world.staff[Role.SCHOOL_ADMINISTRATOR])
    response = action(request, world.unit.public_id)
    assert response.status_code == 302
    assert response.url == reverse("exams-rooms", args=[world.unit.public_id])
    assert [str(m) for m in get_messages(request)] == ["The room is in use."]
