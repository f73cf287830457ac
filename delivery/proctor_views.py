"""The proctor room: every student of a sitting, live, with the proctor's actions.

Thin: reads come from selectors and the presence store, writes from delivery.attempts and
delivery.closing, what each status offers from delivery.proctor_policy. The page is rendered
once; static/js/proctor.js keeps it current from the sitting's socket (/ws/sitting/<sitting>/)
and posts actions to `proctor_action`.
"""

from __future__ import annotations

from collections import Counter

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from delivery import attempts, closing, notices, outages, proctor_policy, selectors, student_auth
from delivery.models import Attempt, AttemptStatus
from exams.day_passwords import day_password_for, display, unit_today
from exams.models import SittingStatus
from exams.templatetags.exam_labels import code_label
from provplattform.errors import NotFound, Refused
from schools.models import Person, User
from schools.pages import AuthenticatedRequest
from schools.roles import Capability
from schools.selectors import user_has_capability

LOST = proctor_policy.LOST
# Every row holds every button; those that do not apply to the student's status are hidden, and
# static/js/proctor.js shows and hides them as the status changes (proctor_policy.ROW_ACTIONS).
ROW_ACTION_BUTTONS = (
    ("release", gettext_lazy("Release")),
    ("absent", gettext_lazy("Absent")),
    ("pause", gettext_lazy("Pause")),
    ("resume", gettext_lazy("Resume")),
    ("add_time", gettext_lazy("Add time")),
    ("reopen", gettext_lazy("Reopen")),
    ("submit", gettext_lazy("Submit for the student")),
    ("unlock", gettext_lazy("Unlock login")),
)

# The row proctor.js copies for a student placed after the page was loaded: it fills in the
# student and the status, and shows the buttons that apply.
BLANK_ROW = {
    "attempt": "",
    "status": "",
    "attempt_status": "",
    "name": "",
    "username": "",
    "label": "",
    "lost_since_local": None,
    "released": False,
    "locked": False,
    "actions": (),
    "adjustments": (),
    "rank": 0,
    "sort_name": "",
    "deadline": None,
    "remaining_seconds": None,
    "remaining_minutes": None,
    "give_back": (),
}

# The room sorts itself: students who need the proctor first (connection lost, paused, released
# but not logged in, waiting, not yet released), then those working, then those done. proctor.js
# applies the same ranks when a status changes.
ROW_RANKS = {
    LOST: 0,
    AttemptStatus.PAUSED: 1,
    "released_not_logged_in": 2,
    AttemptStatus.WAITING: 3,
    AttemptStatus.NOT_STARTED: 4,
    AttemptStatus.WORKING: 5,
    AttemptStatus.SUBMITTED: 6,
    AttemptStatus.ABSENT: 7,
    AttemptStatus.EXEMPT: 8,
}


def row_rank(*, status: str, released: bool) -> int:
    if status == AttemptStatus.NOT_STARTED and released:
        return ROW_RANKS["released_not_logged_in"]
    return ROW_RANKS.get(status, 4)


def adjustment_labels(entry: dict | None) -> list[dict]:
    """[{"code", "label"}] of a student's adjustments, in words, for the proctor's row."""
    if not entry:
        return []
    labels = []
    if entry["extended_minutes"]:
        minutes = entry["extended_minutes"]
        label = _("Extended time +%(minutes)s min") % {"minutes": minutes}
        labels.append({"code": "extended_time", "label": label})
    labels += [{"code": c, "label": code_label(c)} for c in entry["other_kinds"]]
    labels += [{"code": c, "label": code_label(c)} for c in entry["tools"]]
    return labels


def status_labels() -> dict[str, str]:
    return proctor_policy.room_status_labels()


def _rows(sitting) -> tuple[list[dict], list[str]]:
    """One query for the list (plus the presence store, one for locked logins, two for
    exemptions, three for usernames, adjustments and groups, one for outages to give back); the
    same for 3 or 300 students. Exempt students show as "exempt". Sorted by ROW_RANKS, then
    name; returns the rows and the names of the students' teaching groups."""
    lost = notices.lost_since_by_attempt(sitting=sitting)
    locked = student_auth.locked_person_ids(sitting=sitting)
    exempt = {p.pk: p for p in selectors.exempt_students_of_sitting(sitting=sitting)}
    attempts.attempts_ensure(sitting=sitting)
    students = []
    for attempt in selectors.attempts_for_sitting(sitting=sitting):
        is_exempt = exempt.pop(attempt.person_id, None) is not None
        students.append((attempt.person, attempt, is_exempt))
    students += [(person, None, True) for person in exempt.values()]
    details = selectors.room_details(sitting=sitting, person_ids=[s[0].pk for s in students])
    details["give_back"] = outages.offers_by_attempt(sitting=sitting)
    now = timezone.now()
    rows = [
        _row(person, attempt, exempt=is_exempt, lost=lost, locked=locked, details=details, now=now)
        for person, attempt, is_exempt in students
    ]
    rows.sort(key=lambda r: (r["rank"], r["sort_name"]))
    return rows, details["groups"]


def _row(
    person: Person,
    attempt: Attempt | None,
    *,
    exempt: bool,
    lost: dict,
    locked: set[int],
    details: dict,
    now,
) -> dict:
    # Only an exempt student comes without an attempt.
    since = None
    status: str
    if exempt or attempt is None:
        status = AttemptStatus.EXEMPT
    else:
        status = attempt.status
        since = lost.get(attempt.pk) if status in AttemptStatus.LOGGED_IN else None
    released = attempt is not None and attempt.released_at is not None
    shown = LOST if since else status
    remaining = (
        attempts.clock_of(attempt).remaining_seconds(now)
        if attempt is not None and attempt.started_at and status in AttemptStatus.LOGGED_IN
        else None
    )
    return {
        "username": details["usernames"].get(person.pk, ""),
        "adjustments": adjustment_labels(details["adjustments"].get(person.pk)),
        "rank": row_rank(status=shown, released=released),
        "sort_name": f"{person.family_name} {person.given_name}".casefold(),
        "remaining_seconds": remaining,
        "remaining_minutes": -(-remaining // 60) if remaining is not None else None,
        # Outages and device switches whose time the proctor may give back (delivery.outages).
        "give_back": (
            details["give_back"].get(str(attempt.public_id), [])
            if attempt is not None and status in AttemptStatus.OPEN
            else []
        ),
        # An exempt student with no attempt here: the row is keyed by the student instead.
        "attempt": str(attempt.public_id) if attempt else f"exempt-{person.public_id}",
        "person": str(person.public_id),
        "name": person.full_name,
        "status": LOST if since else status,
        "attempt_status": status,
        "lost_since": since.isoformat() if since else None,
        "lost_since_local": timezone.localtime(since) if since else None,
        "released": released,
        "deadline": attempt.deadline.isoformat() if attempt and attempt.deadline else None,
        "locked": attempt is not None and person.pk in locked,
    }


def _row_actions(row: dict, *, ended: bool, can_unlock: bool) -> tuple[str, ...]:
    actions = proctor_policy.attempt_actions(
        status=row["attempt_status"], released=row["released"], sitting_ended=ended
    )
    if row["locked"] and can_unlock and not ended:
        actions += ("unlock",)
    return actions


def _room_rows(sitting, *, can_unlock: bool) -> tuple[list[dict], list[str]]:
    """The room's rows, each with its status label and the actions the proctor may take, and the
    names of the students' teaching groups."""
    labels = status_labels()
    ended = sitting.status == SittingStatus.ENDED
    rows, groups = _rows(sitting)
    for row in rows:
        row["label"] = labels[row["status"]]
        if row["status"] == AttemptStatus.NOT_STARTED and row["released"]:
            row["label"] = _("Released, not logged in")
        row["actions"] = _row_actions(row, ended=ended, can_unlock=can_unlock)
    return rows, groups


def _summary(rows: list[dict]) -> dict:
    counts = Counter(r["status"] for r in rows)
    finished = sum(counts[s] for s in AttemptStatus.FINISHED)
    all_submitted = bool(rows) and finished == len(rows) and counts[AttemptStatus.SUBMITTED] > 0
    return {"counts": dict(counts), "total": len(rows), "all_submitted": all_submitted}


def _day_password(user: User, sitting) -> str:
    if not user_has_capability(
        user=user, school_unit=sitting.school_unit, capability=Capability.VIEW_DAY_PASSWORD
    ):
        return ""

    date = unit_today(sitting.school_unit, sitting.starts_at)
    # Grouped in fours, exactly as on the administrators' day-password page and the printout.
    return display(day_password_for(school_unit=sitting.school_unit, date=date).password)


@login_required
def proctor_sittings(request: AuthenticatedRequest) -> HttpResponse:
    today = timezone.localdate()
    sittings = (
        selectors.sittings_for(user=request.user)
        .filter(starts_at__date__gte=today)
        .order_by("starts_at")[:100]
    )
    return render(request, "delivery/proctor/sittings.html", {"sittings": sittings})


@login_required
def proctor_room(request: AuthenticatedRequest, sitting) -> HttpResponse:
    sitting = selectors.access_sitting(user=request.user, public_id=sitting)
    can_unlock = student_auth.may_unlock(user=request.user, sitting=sitting)
    rows, groups = _room_rows(sitting, can_unlock=can_unlock)
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
            "groups": groups,
            "student_login_url": request.build_absolute_uri(reverse("student-login")),
            "blank_row": BLANK_ROW,
            "summary": summary,
            "statuses": labels,
            "row_actions": proctor_policy.ROW_ACTIONS,
            # The sets proctor.js sorts statuses by: in the room, finished, on the clock (lists, so
            # json_script can write them; sorted, so the page is the same each time).
            "status_sets": {
                "open": sorted(AttemptStatus.LOGGED_IN),
                "quiet": sorted(AttemptStatus.FINISHED),
                "timed": sorted(AttemptStatus.OPEN),
            },
            "row_ranks": {str(k): v for k, v in ROW_RANKS.items()},
            "give_back_min_seconds": outages.GIVE_BACK_MIN_SECONDS,
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
def proctor_state(request: AuthenticatedRequest, sitting) -> JsonResponse:
    """The room as JSON: every student (placed during the day too) and the notices after
    `?after=<id>` (or the newest). proctor.js reloads it after its socket reconnects."""
    sitting = selectors.access_sitting(user=request.user, public_id=sitting)
    can_unlock = student_auth.may_unlock(user=request.user, sitting=sitting)
    rows, _groups = _room_rows(sitting, can_unlock=can_unlock)
    for row in rows:
        row.pop("lost_since_local")
    return JsonResponse(
        {
            "sitting_status": sitting.status,
            "rows": rows,
            "notices": notices.sitting_notices_since(sitting=sitting, after=after_id(request)),
            # What ending the sitting would submit (the end confirmation lists these).
            "open": proctor_policy.open_attempts(sitting=sitting),
            **_summary(rows),
        }
    )


ACTIONS = {
    "release",
    "absent",
    "pause",
    "resume",
    "add_time",
    "reopen",
    "submit",
    "end",
    "unlock",
    "give_back",
}


@require_POST
@login_required
def proctor_action(request: AuthenticatedRequest, sitting, action: str) -> JsonResponse:
    """Run one of the proctor's actions; refusals answer 409 with a short message."""
    if action not in ACTIONS:
        raise NotFound("No such action.")
    sitting = selectors.access_sitting(user=request.user, public_id=sitting)
    actor = request.user
    attempt = None
    if request.POST.get("attempt"):
        attempt = selectors.access_attempt(
            user=actor, sitting=sitting, public_id=request.POST["attempt"]
        )
    try:
        if action == "release":
            count = attempts.attempt_release(
                actor=actor, sitting=sitting, person=attempt.person if attempt else None
            )
            return JsonResponse({"ok": True, "released": count})
        if action == "end":
            # `submit`: the attempts the proctor's confirmation listed (absent: none confirmed).
            confirmed = request.POST.getlist("submit") if "confirmed" in request.POST else None
            closing.sitting_end(
                actor=actor,
                sitting=sitting,
                submit=confirmed,
                reason=request.POST.get("reason", ""),
            )
            return JsonResponse({"ok": True})
        # Every other action is about one student.
        if attempt is None:
            return JsonResponse({"error": _("Choose a student.")}, status=400)
        if action == "submit":
            attempts.attempt_submit_for_student(
                actor=actor, attempt=attempt, reason=request.POST.get("reason", "")
            )
        elif action == "absent":
            attempts.attempt_mark_absent(actor=actor, attempt=attempt)
        elif action == "pause":
            attempts.attempt_pause(actor=actor, attempt=attempt)
        elif action == "resume":
            attempts.attempt_resume(actor=actor, attempt=attempt)
        elif action == "add_time":
            try:
                minutes = int(request.POST.get("minutes", ""))
            except ValueError:
                return JsonResponse({"error": _("Give the minutes as a number.")}, status=400)
            attempts.attempt_add_time(
                actor=actor, attempt=attempt, minutes=minutes, reason=request.POST.get("reason", "")
            )
        elif action == "give_back":
            try:
                notice_id = int(request.POST.get("notice", ""))
            except ValueError:
                return JsonResponse({"error": _("Choose an outage.")}, status=400)
            minutes = outages.attempt_give_back_time(
                actor=actor, attempt=attempt, notice_id=notice_id
            )
            return JsonResponse({"ok": True, "minutes": minutes})
        elif action == "unlock":
            student_auth.student_login_unlock(actor=actor, sitting=sitting, person=attempt.person)
        elif action == "reopen":
            raw = request.POST.get("minutes", "").strip()
            try:
                reopen_for = int(raw) if raw else None
            except ValueError:
                return JsonResponse({"error": _("Give the minutes as a number.")}, status=400)
            attempts.attempt_reopen(
                actor=actor,
                attempt=attempt,
                reason=request.POST.get("reason", ""),
                minutes=reopen_for,
            )
    except closing.OpenAttemptsRefused as exc:
        return JsonResponse({"error": str(exc), "code": exc.code, "open": exc.open}, status=409)
    except attempts.AttemptRefused as exc:
        return JsonResponse({"error": str(exc), "code": exc.code}, status=409)
    except Refused as exc:
        return JsonResponse({"error": str(exc), "code": exc.code}, status=exc.status)
    return JsonResponse({"ok": True})
