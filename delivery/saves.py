"""The save path through the ORM: SQLite (the embedded default) and the fallback when the
PostgreSQL route is not in front (delivery.save_api).

Both implement the one rule of delivery.save_rule, each gathering its facts its own way; a test
(tests/delivery/test_save_paths_agree.py) holds them to the same answers.
"""

from __future__ import annotations

import json
import uuid

from django.db import connection, transaction
from django.utils import timezone

from delivery import save_rule, timer
from delivery.attempts import clock_of, grace_seconds
from delivery.devices import device_token_was_issued
from delivery.models import Attempt
from exams.models import Item

_UPSERT = """
INSERT INTO delivery_response
    (attempt_id, item_id, content, seq, flagged, client_saved_at, server_saved_at, late)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (attempt_id, item_id) DO UPDATE SET
    content = excluded.content, seq = excluded.seq, flagged = excluded.flagged,
    client_saved_at = excluded.client_saved_at, server_saved_at = excluded.server_saved_at,
    late = excluded.late
WHERE delivery_response.seq < excluded.seq
"""


def responses_save(
    *, attempt_public_id: uuid.UUID | str, device_token: str, saves: list[save_rule.Save]
) -> save_rule.SaveResult:
    """Apply saves whose sequence is newer than what the server holds; acknowledge after commit.

    The rule and its order are delivery.save_rule's; the PostgreSQL path in delivery.save_api
    gathers the same facts in one statement and answers through the same function.
    """
    saves = save_rule.newest_per_item(saves)
    with transaction.atomic():
        attempt = (
            Attempt.objects.select_for_update(of=("self",))
            .select_related("sitting")
            .filter(public_id=attempt_public_id)
            .first()
        )
        # No token is never the attempt's: an attempt without a device holds an empty one.
        same_device = (
            attempt is not None and bool(device_token) and attempt.device_token == device_token
        )
        refused = save_rule.attempt_refusal(
            found=attempt is not None,
            same_device=same_device,
            status=attempt.status if attempt is not None else "",
            token_issued=same_device
            or device_token_was_issued(attempt_public_id=attempt_public_id, token=device_token),
        )
        if refused:
            return save_rule.save_answer(refused=refused, outcomes=[])
        assert attempt is not None  # a missing attempt is refused above
        items = {
            str(public_id): pk
            for public_id, pk in Item.objects.filter(
                subtest_id=attempt.sitting.subtest_id, public_id__in=[s.item for s in saves]
            ).values_list("public_id", "pk")
        }
        now = timezone.now()
        clock = clock_of(attempt)
        outcomes: list[tuple[save_rule.Save, str]] = []
        with connection.cursor() as cursor:
            for save in saves:
                accepted, late = timer.save_verdict(
                    clock,
                    now=now,
                    client_saved_at=save.client_saved_at,
                    grace_seconds=grace_seconds(),
                )
                outcome = save_rule.save_outcome(known_item=save.item in items, in_time=accepted)
                outcomes.append((save, outcome))
                if outcome != save_rule.STORED:
                    continue
                cursor.execute(
                    _UPSERT,
                    [
                        attempt.pk,
                        items[save.item],
                        json.dumps(save.content),
                        save.seq,
                        save.flagged,
                        save.client_saved_at,
                        now,
                        late,
                    ],
                )
    return save_rule.save_answer(refused="", outcomes=outcomes)
