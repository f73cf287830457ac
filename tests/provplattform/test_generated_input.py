"""Generated bad input over every page and every form of it: no answer is a server error.

The walk finds the pages in the URL configuration (so a new page is covered the day it exists),
fills each route's ids with objects of the actor's own unit, reads the forms each page shows and
sends them back with values drawn by hypothesis: NUL characters, long text, deep JSON, numbers
with thousands of digits or beyond a column, and malformed ids (`not-a-uuid`, `unit:not-a-uuid`).
Query strings get the same treatment. Every answer must be below 500; the test client re-raises
a view's exception, so a server error fails with its traceback.
"""

from __future__ import annotations

import uuid
from html.parser import HTMLParser

import pytest
from django.test import Client
from django.urls import get_resolver
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exams.models import Programme
from schools.models import OrganiserAdministrator
from schools.roles import Role
from tests.factories import SubtestFactory, UserFactory
from tests.schools.test_api_isolation import _seed_unit, _walk

# Cases per form and per page's query string; the whole walk stays within a minute or two.
EXAMPLES = 3
SKIPPED_PREFIXES = ("admin/", "api/", "i18n/", "^media", "static/")
# Routes that end the session or only serve files; walked elsewhere.
SKIPPED_NAMES = {"logout", "student-logout", "transfer-template", "exams-operator-export"}

BAD_VALUES = [
    "\x00",
    "a\x00b",
    "not-a-uuid",
    "unit:not-a-uuid",
    "group:" + "0" * 40,
    "unit:" + str(uuid.UUID(int=1)),
    str(uuid.UUID(int=7)),
    "9" * 5000,
    str(10**20),
    "-" + str(10**20),
    "1e999",
    "NaN",
    "-1",
    "0",
    "[" * 3000 + "]" * 3000,
    '{"a":' * 2000 + "1" + "}" * 2000,
    "2026-13-45T25:61",
    "x" * 20000,
    "",
]
# Each class once in every field, one field at a time (the others valid, so it gets past them).
CORE_VALUES = ["a\x00b", "not-a-uuid", "unit:not-a-uuid", str(10**20), "[" * 3000, "x" * 20000]
bad_text = st.one_of(
    st.sampled_from(BAD_VALUES),
    st.text(max_size=40).filter(lambda s: not any(0xD800 <= ord(c) <= 0xDFFF for c in s)),
    st.builds(lambda prefix, tail: prefix + tail, st.sampled_from(["unit:", "group:"]), st.text()),
)
QUERY_KEYS = ["search", "q", "reason", "room", "subtest", "sitting", "unit", "page", "limit"]
# Fields that pages driven by scripts (the proctor room, the status page) post without a form.
POST_KEYS = [
    "attempt",
    "target",
    "person",
    "student",
    "students",
    "action",
    "reason",
    "minutes",
    "room",
    "sitting",
    "subtest",
    "test",
    "group",
    "role",
    "starts_at",
    "extended_minutes",
    "key",
    "note",
    "message",
    "unit",
]


class _Forms(HTMLParser):
    """The forms of a page: action, method, and per field name the values the page offers."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {
                "action": a.get("action") or "",
                "method": (a.get("method") or "get").lower(),
                "fields": {},
                "buttons": [],
            }
            self.forms.append(self._form)
            return
        if self._form is None or not a.get("name"):
            return
        fields = self._form["fields"]
        if tag == "button" or (tag == "input" and a.get("type") == "submit"):
            self._form["buttons"].append((a["name"], a.get("value", "")))
        elif tag == "input":
            fields.setdefault(a["name"], []).append(a.get("value") or "")
        elif tag == "textarea":
            fields.setdefault(a["name"], []).append("text")
        elif tag == "select":
            self._select = a["name"]
            fields.setdefault(a["name"], [])
        if tag == "option" and self._select:
            self._form["fields"][self._select].append(a.get("value", ""))

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None


def _page_routes() -> list[tuple[str, str]]:
    return [
        (pattern.name, route)
        for route, pattern in _walk(get_resolver().url_patterns)
        if not route.startswith(SKIPPED_PREFIXES) and pattern.name not in SKIPPED_NAMES
    ]


def _fill(route: str, ids: dict[str, str]) -> str | None:
    path = route
    while "<" in path:
        start = path.index("<")
        end = path.index(">", start)
        name = path[start + 1 : end].split(":")[-1]
        if name not in ids:
            return None
        path = path[:start] + ids[name] + path[end + 1 :]
    return "/" + path


@pytest.fixture
def walk_world(world):
    subtest = SubtestFactory()
    seeded = _seed_unit(world.unit, subtest, SubtestFactory(test__programme=Programme.NO_MAPPING))
    _seed_unit(world.sibling_unit, subtest, SubtestFactory(test__programme=Programme.NO_MAPPING))
    organiser_admin = UserFactory(username="orgadmin")
    OrganiserAdministrator.objects.create(user=organiser_admin, organiser=world.unit.organiser)
    operator = UserFactory(username="operator", is_platform_operator=True)
    ids = {
        "unit": str(world.unit.public_id),
        "room": str(seeded["room"].public_id),
        "sitting": str(seeded["sitting"].public_id),
        "assignment": str(seeded["assignment"].public_id),
        "adjustment": str(seeded["adjustment"].public_id),
        "exemption": str(seeded["exemption"].public_id),
        "test": str(subtest.test.public_id),
        "action": "release",
    }
    users = {
        "head_teacher": world.staff[Role.HEAD_TEACHER],
        "test_administrator": world.staff[Role.TEST_ADMINISTRATOR],
        "proctor": world.staff[Role.PROCTOR],
        "teacher": world.staff[Role.TEACHER],
        "organiser_admin": organiser_admin,
        "operator": operator,
    }
    return ids, users


def _client(user) -> Client:
    client = Client()  # re-raises a view's exception: a server error fails with its traceback
    client.force_login(user)
    return client


def _send(client, form: dict, page: str, data: dict):
    target = form["action"] or page
    if form["method"] == "post":
        return client.post(target, data)
    return client.get(target, data)


CASES = {"pages": 0, "forms": 0, "requests": 0}


GENERATED = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


def _core_query_strings(client, page: str) -> None:
    for value in CORE_VALUES:
        CASES["requests"] += 1
        params = dict.fromkeys(QUERY_KEYS, value)
        assert client.get(page, params).status_code < 500, (page, params)


def _core_submissions(client, page: str, form: dict) -> None:
    good = {
        field: ([v for v in offered if v] or ["1"])[0] for field, offered in form["fields"].items()
    }
    for button in form["buttons"] or [None]:
        for field in form["fields"]:
            for value in CORE_VALUES:
                values = {**good, field: value}
                if button:
                    values[button[0]] = button[1]
                CASES["requests"] += 1
                response = _send(client, form, page, values)
                assert response.status_code < 500, (page, form["action"], values)


def _query_strings(client, page: str) -> None:
    @GENERATED
    @given(data=st.data())
    def run(data):
        keys = data.draw(st.lists(st.sampled_from(QUERY_KEYS), min_size=1, max_size=3))
        params = {key: data.draw(bad_text) for key in keys}
        CASES["requests"] += 1
        assert client.get(page, params).status_code < 500, (page, params)

    run()


def _blind_posts(client, page: str) -> None:
    @GENERATED
    @given(data=st.data())
    def run(data):
        keys = data.draw(st.lists(st.sampled_from(POST_KEYS), min_size=1, max_size=4))
        values = {key: data.draw(bad_text) for key in keys}
        CASES["requests"] += 1
        assert client.post(page, values).status_code < 500, (page, values)

    run()


def _submissions(client, page: str, form: dict) -> None:
    @GENERATED
    @given(data=st.data())
    def run(data):
        values = {}
        for field, offered in form["fields"].items():
            good = [v for v in offered if v] or ["1"]
            values[field] = data.draw(st.one_of(st.sampled_from(good), bad_text))
        if form["buttons"]:
            name, value = data.draw(st.sampled_from(form["buttons"]))
            values[name] = value
        CASES["requests"] += 1
        response = _send(client, form, page, values)
        assert response.status_code < 500, (page, form["action"], values)

    run()


@pytest.mark.parametrize(
    "who",
    ["head_teacher", "proctor", "organiser_admin", "operator"],
)
def test_no_page_answers_bad_input_with_a_server_error(walk_world, who):
    ids, users = walk_world
    for _name, route in _page_routes():
        page = _fill(route, ids)
        if page is None:
            continue
        client = _client(users[who])  # a fresh session: the student login page ends the last one
        first = client.get(page)
        assert first.status_code < 500, page
        CASES["pages"] += 1
        _core_query_strings(client, page)
        _query_strings(client, page)
        _blind_posts(client, page)
        if first.status_code != 200 or "html" not in first.get("Content-Type", ""):
            continue
        parser = _Forms()
        parser.feed(first.content.decode())
        for form in parser.forms:
            CASES["forms"] += 1
            _core_submissions(client, page, form)
            _submissions(client, page, form)
    print(f"\n{who}: {CASES}")
