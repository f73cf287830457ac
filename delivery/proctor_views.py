"""The proctor room: every student of a sitting, live, with the proctor's actions.

Thin: reads come from selectors and the presence store, writes from delivery.services. The page is
rendered once; static/js/proctor.js keeps it current from the sitting's socket
(/ws/sitting/<sitting>/) and posts actions to `proctor_action`.
"""

from __future__ import annotations

from collections import Counter

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from delivery import notices, selectors, services, student_auth
from delivery.models import Attempt, AttemptStatus
from exams.day_passwords import day_password_for, unit_today
from exams.models import SittingStatus
from schools.models import Person
from schools.roles import Capability
from schools.selectors import user_has_capability

OPEN = (AttemptStatus.WAITING, AttemptStatus.WORKING, AttemptStatus.PAUSED)
DONE = (AttemptStatus.SUBMITTED, AttemptStatus.ABSENT, AttemptStatus.EXEMPT)
LOST = "lost"
# Every row holds every button; those that do not apply to the student's status are hidden, and
# static/js/proctor.js shows and hides them as the status changes (services.ROW_ACTIONS).
ROW_ACTION_BUTTONS = (
    ("release", gettext_lazy("Release")),
    ("absent", gettext_lazy("Absent")),
    ("pause", gettext_lazy("Pause")),
    ("resume", gettext_lazy("Resume")),
    ("add_time", gettext_lazy("Add time")),
    ("reopen", gettext_lazy("Reopen")),
    ("unlock", gettext_lazy("Unlock login")),
)

# The row proctor.js copies for a student placed after the page was loaded: it fills in the
# student and the status, and shows the buttons that apply.
BLANK_ROW = {
    "attempt": "",
    "status": "",
    "attempt_status": "",
    "name": "",
    "label": "",
    "lost_since_local": None,
    "released": False,
    "locked": False,
    "actions": (),
}


def status_labels() -> dict[str, str]:
    labels = {value: str(label) for value, label in AttemptStatus.choices}
    labels[LOST] = _("Connection lost")
    return labels


def _rows(sitting) -> list[dict]:
    """One query for the list (plus the presence store, one for locked logins and two for
    exemptions); the same for 3 or 300 students. Exempt students show as "exempt"."""
    lost = notices.lost_since_by_attempt(sitting=sitting)
    locked = student_auth.locked_person_ids(sitting=sitting)
    exempt = {p.pk: p for p in selectors.exempt_students_of_sitting(sitting=sitting)}
    services.attempts_ensure(sitting=sitting)
    students = []
    for attempt in selectors.attempts_for_sitting(sitting=sitting):
        is_exempt = exempt.pop(attempt.person_id, None) is not None
        students.append((attempt.person, attempt, is_exempt))
    students += [(person, None, True) for person in exempt.values()]
    students.sort(key=lambda s: (s[0].family_name, s[0].given_name))
    return [
        _row(person, attempt, exempt=is_exempt, lost=lost, locked=locked)
        for person, attempt, is_exempt in students
    ]


def _row(
    person: Person, attempt: Attempt | None, *, exempt: bool, lost: dict, locked: set[int]
) -> dict:
    status = AttemptStatus.EXEMPT if exempt else attempt.status
    since = lost.get(attempt.pk) if status in OPEN else None
    return {
        # An exempt student with no attempt here: the row is keyed by the student instead.
        "attempt": str(attempt.public_id) if attempt else f"exempt-{person.public_id}",
        "person": str(person.public_id),
        "name": person.full_name,
        "status": LOST if since else status,
        "attempt_status": status,
        "lost_since": since.isoformat() if since else None,
        "lost_since_local": timezone.localtime(since) if since else None,
        "released": attempt is not None and attempt.released_at is not None,
        "deadline": attempt.deadline.isoformat() if attempt and attempt.deadline else None,
        "locked": attempt is not None and person.pk in locked,
    }


def _row_actions(row: dict, *, ended: bool, can_unlock: bool) -> tuple[str, ...]:
    actions = services.attempt_actions(
        status=row["attempt_status"], released=row["released"], sitting_ended=ended
    )
    if row["locked"] and can_unlock and not ended:
        actions += ("unlock",)
    return actions


def _room_rows(sitting, *, can_unlock: bool) -> list[dict]:
    """The room's rows, each with its status label and the actions the proctor may take."""
    labels = status_labels()
    ended = sitting.status == SittingStatus.ENDED
    rows = _rows(sitting)
    for row in rows:
        row["label"] = labels[row["status"]]
        row["actions"] = _row_actions(row, ended=ended, can_unlock=can_unlock)
    return rows


def _summary(rows: list[dict]) -> dict:
    counts = Counter(r["status"] for r in rows)
    finished = sum(counts[s] for s in DONE)
    all_submitted = bool(rows) and finished == len(rows) and counts[AttemptStatus.SUBMITTED] > 0
    return {"counts": dict(counts), "total": len(rows), "all_submitted": all_submitted}


def _day_password(user, sitting) -> str:
    if not user_has_capability(
        user=user, school_unit=sitting.school_unit, capability=Capability.VIEW_DAY_PASSWORD
    ):
        return ""

    date = unit_today(sitting.school_unit, sitting.starts_at)
    return day_password_for(school_unit=sitting.school_unit, date=date).password


@login_required
def proctor_sittings(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate()
    sittings = (
        selectors.sittings_for(user=request.user)
        .filter(starts_at__date__gte=today)
        .order_by("starts_at")[:100]
    )
    return render(request, "delivery/proctor/sittings.html", {"sittings": sittings})


@login_required
def proctor_room(request: HttpRequest, sitting) -> HttpResponse:
    sitting = selectors.access_sitting(user=request.user, public_id=sitting)
    can_unlock = student_auth.may_unlock(user=request.user, sitting=sitting)
    rows = _room_rows(sitting, can_unlock=can_unlock)
    labels = status_labels()
    summary = _summary(rows)
    return render(
        request,
        "delivery/proctor/room.html",
        {
            "count_items": [
                (value, label, summary["counts"].get(value, 0)) for value, label in labels.items()
            ],
            "sitting": sitting,
            "unit": sitting.school_unit,
            "rows": rows,
            "blank_row": BLANK_ROW,
            "summary": summary,
            "statuses": labels,
            "row_actions": services.ROW_ACTIONS,
            "row_action_buttons": ROW_ACTION_BUTTONS,
            "sitting_ended": sitting.status == SittingStatus.ENDED,
            "can_unlock": can_unlock,
            "day_password": _day_password(request.user, sitting),
            "history": [
                {"notice": n, "text": notices.notice_text(n)}
                for n in notices.notices_for_sitting(sitting=sitting, limit=100)
            ],
        },
    )


def after_id(request: HttpRequest) -> int | None:
    """The `after` parameter: the newest notice id the page already shows."""
    try:
        return int(request.GET["after"])
    except (KeyError, ValueError):
        return None


@login_required
def proctor_state(request: HttpRequest, sitting) -> JsonResponse:
    """The room as JSON: every student (placed during the day too) and the notices after
    `?after=<id>` (or the newest). proctor.js reloads it after its socket reconnects."""
    sitting = selectors.access_sitting(user=request.user, public_id=sitting)
    can_unlock = student_auth.may_unlock(user=request.user, sitting=sitting)
    rows = _room_rows(sitting, can_unlock=can_unlock)
    for row in rows:
        row.pop("lost_since_local")
    return JsonResponse(
        {
            "sitting_status": sitting.status,
            "rows": rows,
            "notices": notices.sitting_notices_since(sitting=sitting, after=after_id(request)),
            **_summary(rows),
        }
    )


ACTIONS = {"release", "absent", "pause", "resume", "add_time", "reopen", "end", "unlock"}


@require_POST
@login_required
def proctor_action(request: HttpRequest, sitting, action: str) -> JsonResponse:
    """Run one of the proctor's actions; refusals answer 409 with a short message."""
    if action not in ACTIONS:
        raise Http404("No such action.")
    sitting = selectors.access_sitting(user=request.user, public_id=sitting)
    actor = request.user
    attempt = None
    if request.POST.get("attempt"):
        attempt = selectors.access_attempt(
            user=actor, sitting=sitting, public_id=request.POST["attempt"]
        )
    elif action not in ("release", "end"):
        return JsonResponse({"error": _("Choose a student.")}, status=400)
    try:
        if action == "release":
            count = services.attempt_release(
                actor=actor, sitting=sitting, person=attempt.person if attempt else None
            )
            return JsonResponse({"ok": True, "released": count})
        if action == "end":
            services.sitting_end(actor=actor, sitting=sitting)
        elif action == "absent":
            services.attempt_mark_absent(actor=actor, attempt=attempt)
        elif action == "pause":
            services.attempt_pause(actor=actor, attempt=attempt)
        elif action == "resume":
            services.attempt_resume(actor=actor, attempt=attempt)
        elif action == "add_time":
            try:
                minutes = int(request.POST.get("minutes", ""))
            except ValueError:
                return JsonResponse({"error": _("Give the minutes as a number.")}, status=400)
            services.attempt_add_time(
                actor=actor, attempt=attempt, minutes=minutes, reason=request.POST.get("reason", "")
            )
        elif action == "unlock":
            student_auth.student_login_unlock(actor=actor, sitting=sitting, person=attempt.person)
        elif action == "reopen":
            raw = request.POST.get("minutes", "").strip()
            try:
                minutes = int(raw) if raw else None
            except ValueError:
                return JsonResponse({"error": _("Give the minutes as a number.")}, status=400)
            services.attempt_reopen(
                actor=actor,
                attempt=attempt,
                reason=request.POST.get("reason", ""),
                minutes=minutes,
            )
    except services.AttemptRefused as exc:
        return JsonResponse({"error": str(exc), "code": exc.code}, status=409)
    return JsonResponse({"ok": True})
