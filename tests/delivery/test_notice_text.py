"""A notice's sentence is written in one place (delivery.notices.event_text) and every page shows
it as given: the history, the catch-up JSON and each live event, in the reader's language."""

from __future__ import annotations

from channels.layers import get_channel_layer
from django.utils import translation

from delivery import notices
from delivery.models import Notice, NoticeKind
from schools.roles import Role
from tests.delivery.presence_helpers import store  # noqa: F401
from tests.delivery.test_consumers import live, run, socket, staff_cookie  # noqa: F401


def test_each_staff_socket_hears_a_notice_in_its_own_page_language(live):  # noqa: F811
    world, sitting, attempt, _token = live
    cookie = staff_cookie(world.staff[Role.PROCTOR])
    # As the outbox sends it while the database is away: no sentence, only the facts.
    event = {
        "type": "notice",
        "id": None,
        "kind": NoticeKind.CONNECTION_RESTORED,
        "attempt": str(attempt.public_id),
        "name": "Alva Berg",
        "outage_seconds": 75,
    }

    async def scenario():
        english = socket(f"/ws/sitting/{sitting.public_id}/", cookie + b"; django_language=en")
        swedish = socket(f"/ws/sitting/{sitting.public_id}/", cookie)
        swedish.scope["headers"].append((b"accept-language", b"sv-SE,sv;q=0.9"))
        assert (await english.connect())[0]
        assert (await swedish.connect())[0]
        await get_channel_layer().group_send(notices.sitting_group(sitting.public_id), event)
        heard_in_english = await english.receive_json_from()
        heard_in_swedish = await swedish.receive_json_from()
        await english.disconnect()
        await swedish.disconnect()
        return heard_in_english, heard_in_swedish

    heard_in_english, heard_in_swedish = run(scenario)
    assert heard_in_english["text"] == "Alva Berg is connected again after 1 min 15 s"
    assert heard_in_swedish["text"] == "Alva Berg är ansluten igen efter 1 min 15 s"
    assert heard_in_english["kind"] == NoticeKind.CONNECTION_RESTORED


def test_a_room_notice_says_how_many_came_back():
    event = {"kind": NoticeKind.ROOM_CONNECTION_LOST, "room": "B12", "count": 5, "restored": 2}
    with translation.override("en"):
        assert notices.event_text(event) == "B12: 5 students lost the connection (2 back)"
        assert notices.event_text(event | {"restored": 0}) == "B12: 5 students lost the connection"


def test_a_notice_of_a_kind_without_a_sentence_is_named_by_its_kind():
    with translation.override("en"):
        assert notices.event_text({"kind": NoticeKind.SUBMITTED}) == "Submitted"


def test_catching_up_gives_each_notice_its_sentence(live):  # noqa: F811
    # given a stored device switch (its data names nobody; the person does)
    _world, sitting, attempt, _token = live
    Notice.objects.create(
        sitting=sitting,
        school_unit=sitting.school_unit,
        room=sitting.room,
        person=attempt.person,
        kind=NoticeKind.DEVICE_SWITCHED,
        data={"attempt": str(attempt.public_id), "gap_seconds": 4},
    )
    # when the proctor page catches up
    with translation.override("en"):
        caught_up = notices.sitting_notices_since(sitting=sitting, after=None)
    # then the notice reads as on the page's history
    assert [n["text"] for n in caught_up] == [f"{attempt.person.full_name} switched device"]
