"""The one rule both save paths answer by (delivery.saves.responses_save, the ORM path, and
delivery.save_api.save_fast, the PostgreSQL path): each gathers the same facts its own way and
this module turns them into the answer, so the two can never answer differently.

In this order:

1. no such attempt: 404 ``not_found``;
2. the device token is not the attempt's current one (no token never is, even for an attempt
   that has no device yet): 409 ``device_replaced`` when the token was
   once issued for this attempt, else 404 ``not_found`` exactly as in 1, so a token that was never
   this attempt's learns nothing about it (another unit's attempt answers like a random id);
3. the attempt is submitted: 409 ``submitted``; not working or paused: 409 ``not_started``;
   in all three nothing is acknowledged, whatever the server holds (it may hold another
   device's text, so an acknowledgement would be a false "Saved");
4. then save by save: an item outside the attempt's subtest is not stored (``unknown_item``); a
   save refused by the late-delivery rule is not stored (``deadline_passed``); every other save
   is upserted (it replaces the stored content only if its sequence is newer) and acknowledged,
   because the server then holds that answer or a newer one of this device's attempt;
5. the answer is 200 when every save is acknowledged, else 409 with the acknowledged ones and
   the reason: ``deadline_passed`` before ``unknown_item``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from delivery.models import AttemptStatus

STORED = "stored"
UNKNOWN_ITEM = "unknown_item"
DEADLINE_PASSED = "deadline_passed"


@dataclass(frozen=True)
class Save:
    item: str  # item public id
    seq: int
    content: Any
    flagged: bool = False
    client_saved_at: datetime.datetime | None = None


@dataclass
class SaveResult:
    acked: list[dict]
    refused: str = ""  # not_found, device_replaced, submitted, not_started, deadline_passed,
    # unknown_item

    @property
    def http_status(self) -> int:
        if not self.refused:
            return 200
        return 404 if self.refused == "not_found" else 409


def newest_per_item(saves: Iterable[Save]) -> list[Save]:
    best: dict[str, Save] = {}
    for save in saves:
        if save.item not in best or best[save.item].seq < save.seq:
            best[save.item] = save
    return list(best.values())


def attempt_refusal(
    *, found: bool, same_device: bool, status: str, token_issued: bool = True
) -> str:
    """Steps 1-3: why the attempt takes no saves at all, or "" when it takes them."""
    if not found:
        return "not_found"
    if not same_device:
        return "device_replaced" if token_issued else "not_found"
    if status == AttemptStatus.SUBMITTED:
        return "submitted"
    if status not in AttemptStatus.OPEN:
        return "not_started"
    return ""


def save_outcome(*, known_item: bool, in_time: bool) -> str:
    """Step 4 for one save of an attempt that takes saves."""
    if not known_item:
        return UNKNOWN_ITEM
    if not in_time:
        return DEADLINE_PASSED
    return STORED


def save_answer(*, refused: str, outcomes: Iterable[tuple[Save, str]]) -> SaveResult:
    """Step 5: the answer from the attempt's refusal (if any) and each save's outcome."""
    if refused:
        return SaveResult(acked=[], refused=refused)
    acked: list[dict] = []
    reasons: set[str] = set()
    for save, outcome in outcomes:
        if outcome == STORED:
            acked.append({"item": save.item, "seq": save.seq})
        else:
            reasons.add(outcome)
    reason = next((r for r in (DEADLINE_PASSED, UNKNOWN_ITEM) if r in reasons), "")
    return SaveResult(acked=acked, refused=reason)
