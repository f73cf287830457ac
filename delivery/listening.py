"""Listening parts: the plays of an item's sound, counted and limited on the server.

The exam client loads every sound of the test when the page opens (so a network outage during the
test does not stop a sound from playing) and plays it with its own controls. Before each play it
asks `audio_play`: the server counts the play and refuses one beyond the item's `audio_plays`
limit, however often the page is reloaded or the student changes device. Only a working attempt
plays (not paused, not submitted). The headphone check before the start is kept in the student's
session (`headphones_checked`).
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from delivery.attempts import AttemptRefused
from delivery.models import Attempt, AttemptStatus, AudioPlay
from exams.models import Item, Subtest
from provplattform.errors import NotFound

AUDIO_MARK = "<audio"


def subtest_has_audio(subtest: Subtest) -> bool:
    return Item.objects.filter(subtest=subtest, content_html__contains=AUDIO_MARK).exists()


def audio_state(*, attempt: Attempt) -> dict[str, dict[str, Any]]:
    """{item public id: {"limit", "used"}} for the items of the attempt's subtest with sound."""
    items = Item.objects.filter(
        subtest_id=attempt.sitting.subtest_id, content_html__contains=AUDIO_MARK
    ).only("public_id", "audio_plays")
    used = dict(AudioPlay.objects.filter(attempt=attempt).values_list("item__public_id", "plays"))
    return {
        str(item.public_id): {"limit": item.audio_plays, "used": used.get(item.public_id, 0)}
        for item in items
    }


def audio_play(*, attempt: Attempt, item_public_id) -> dict[str, Any]:
    """Count one play of the item's sound: {"used", "limit", "left"}.

    Invariant: never more plays than the item's limit; only while the attempt is working; only
    an item of the attempt's own subtest (anything else is not found).
    """
    try:
        item = Item.objects.get(
            public_id=item_public_id,
            subtest_id=attempt.sitting.subtest_id,
            content_html__contains=AUDIO_MARK,
        )
    except (Item.DoesNotExist, ValueError) as exc:
        raise NotFound(_("No such sound.")) from exc
    with transaction.atomic():
        status = Attempt.objects.filter(pk=attempt.pk).values_list("status", flat=True).first()
        if status != AttemptStatus.WORKING:
            raise AttemptRefused(
                _("The sound plays only while the test is running."), code=status or "refused"
            )
        AudioPlay.objects.get_or_create(attempt=attempt, item=item)
        row = AudioPlay.objects.select_for_update().get(attempt=attempt, item=item)
        if item.audio_plays is not None and row.plays >= item.audio_plays:
            raise AttemptRefused(
                _("You have played this sound as many times as allowed."), code="no_plays_left"
            )
        AudioPlay.objects.filter(pk=row.pk).update(
            plays=F("plays") + 1, last_played_at=timezone.now()
        )
        used = row.plays + 1
    left = None if item.audio_plays is None else item.audio_plays - used
    return {"used": used, "limit": item.audio_plays, "left": left}
