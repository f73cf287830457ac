"""The student's pages: login, waiting room, the exam client, submit. Thin: services do the work.

A student is not a Django user; the session holds the attempt and this device's token. When the
attempt has moved to another device, every page says so and asks the student to log in again.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from delivery import attempts, devices, listening, selectors, student_auth
from delivery.models import Attempt, AttemptStatus
from provplattform.errors import NotFound, Refused
from schools.roles import Capability

SESSION_KEY = "student"
HEADPHONES_KEY = "headphones_checked"


def _needs_headphone_check(request: HttpRequest, attempt: Attempt) -> bool:
    """A test with a listening part starts only after the student heard the check sound on this
    device (an attempt already started continues without it)."""
    if attempt.started_at is not None or request.session.get(HEADPHONES_KEY) == attempt.pk:
        return False
    return listening.subtest_has_audio(attempt.sitting.subtest)


def _current(request: HttpRequest) -> tuple[Attempt | None, str]:
    """(attempt, problem): no attempt when the session holds none (problem "login"); problem is
    "replaced" when another device took it over, "" when this device holds it."""
    data = request.session.get(SESSION_KEY)
    if not data:
        return None, "login"
    attempt = (
        Attempt.objects.select_related("sitting__subtest__test", "sitting__school_unit", "person")
        .filter(pk=data.get("attempt"))
        .first()
    )
    if attempt is None:
        return None, "login"
    if attempt.device_token != data.get("device"):
        return attempt, "replaced"
    return attempt, ""


def _replaced(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    return render(request, "delivery/student/replaced.html", status=409)


def _rotate_session(request: HttpRequest, student: dict) -> None:
    """A new session key after login (no session fixation), written once.

    `cycle_key()` would insert the session and then update it; here the old session is removed
    and the new one is inserted when the response is sent. Anything else it held is kept.
    """
    kept = dict(request.session.items())
    request.session.flush()
    request.session.update(kept)
    request.session[SESSION_KEY] = student


@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    error = ""
    if request.method == "POST":
        try:
            person, sitting = student_auth.student_authenticate(
                username=request.POST.get("username", ""),
                password=request.POST.get("password", ""),
                code=request.POST.get("code", ""),
                day_password=request.POST.get("day_password", ""),
            )
        except student_auth.LoginRefused as exc:
            error = str(exc)
        else:
            attempt, token, replaced = devices.attempt_login(
                sitting=sitting,
                person=person,
                device_label=request.headers.get("User-Agent", "")[:200],
            )
            _rotate_session(request, {"attempt": attempt.pk, "device": token})
            if replaced:
                messages.info(
                    request, _("You continue where you were. The other device is signed out.")
                )
            return redirect("student-wait")
    return render(
        request,
        "delivery/student/login.html",
        {"error": error, "username": request.POST.get("username", "")},
        status=200 if not error else 401,
    )


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    return redirect("student-login")


def _state(attempt: Attempt) -> dict:
    now = timezone.now()
    clock = attempts.clock_of(attempt)
    deadline = clock.effective_deadline(now)
    return {
        "status": attempt.status,
        "released": attempt.released_at is not None,
        "deadline": deadline.isoformat() if deadline else None,
        "remaining_seconds": clock.remaining_seconds(now),
        "paused": attempt.status == AttemptStatus.PAUSED,
        "server_time": now.isoformat(),
    }


@never_cache
def wait_view(request: HttpRequest) -> HttpResponse:
    attempt, problem = _current(request)
    if attempt is None:
        return redirect("student-login")
    if problem == "replaced":
        return _replaced(request)
    if attempt.status == AttemptStatus.SUBMITTED:
        return redirect("student-done")
    needs_check = _needs_headphone_check(request, attempt)
    if attempt.status in AttemptStatus.OPEN or (
        attempt.released_at and attempt.status in AttemptStatus.BEFORE_START and not needs_check
    ):
        return redirect("student-test")
    return render(
        request,
        "delivery/student/wait.html",
        {
            "attempt": attempt,
            "headphone_check": needs_check
            or (
                request.session.get(HEADPHONES_KEY) == attempt.pk
                and listening.subtest_has_audio(attempt.sitting.subtest)
            ),
            "headphones_checked": not needs_check,
        },
    )


@require_POST
def headphones_view(request: HttpRequest) -> JsonResponse:
    """The student heard the check sound: the test may start on this device."""
    attempt, problem = _current(request)
    if attempt is None:
        return JsonResponse({"error": "login"}, status=401)
    if problem == "replaced":
        return JsonResponse({"error": "device_replaced"}, status=409)
    request.session[HEADPHONES_KEY] = attempt.pk
    return JsonResponse({"ok": True})


@require_POST
def audio_play_view(request: HttpRequest, item) -> JsonResponse:
    """Count one play of an item's sound; 409 when no play is left (delivery.listening)."""
    attempt, problem = _current(request)
    if attempt is None:
        return JsonResponse({"error": "login"}, status=401)
    if problem == "replaced":
        return JsonResponse({"error": "device_replaced"}, status=409)
    try:
        return JsonResponse(listening.audio_play(attempt=attempt, item_public_id=item))
    except attempts.AttemptRefused as exc:
        return JsonResponse({"error": exc.code, "detail": str(exc)}, status=409)
    except Refused as exc:
        return JsonResponse({"error": exc.code, "detail": str(exc)}, status=exc.status)


@never_cache
def state_view(request: HttpRequest) -> JsonResponse:
    attempt, problem = _current(request)
    if attempt is None:
        return JsonResponse({"error": "login"}, status=401)
    if problem == "replaced":
        return JsonResponse({"error": "device_replaced"}, status=409)
    return JsonResponse(_state(attempt))


@never_cache
def test_view(request: HttpRequest) -> HttpResponse:
    attempt, problem = _current(request)
    if attempt is None:
        return redirect("student-login")
    if problem == "replaced":
        return _replaced(request)
    if attempt.status == AttemptStatus.SUBMITTED:
        return redirect("student-done")
    if attempt.released_at is None and attempt.status not in AttemptStatus.OPEN:
        return redirect("student-wait")
    if _needs_headphone_check(request, attempt):
        return redirect("student-wait")
    attempt = attempts.attempt_start(attempt=attempt)
    if attempt.status not in AttemptStatus.OPEN:
        return redirect("student-wait")
    items = selectors.items_of(attempt=attempt)
    subtest = attempt.sitting.subtest
    tools = selectors.tools_of(attempt=attempt)
    config = {
        "attempt": str(attempt.public_id),
        "device": request.session[SESSION_KEY]["device"],
        "saveUrl": reverse("delivery-attempt-saves", args=[attempt.public_id]),
        "stateUrl": reverse("student-state"),
        "submitUrl": reverse("student-submit"),
        "doneUrl": reverse("student-done"),
        "items": [str(i.public_id) for i in items],
        "server": selectors.responses_of(attempt=attempt),
        "state": _state(attempt),
        "tools": tools,
        "lang": subtest.content_lang,
        "audio": listening.audio_state(attempt=attempt),
        "playUrl": reverse("student-audio-play", args=["00000000-0000-0000-0000-000000000000"]),
    }
    return render(
        request,
        "delivery/student/test.html",
        {
            "attempt": attempt,
            "items": items,
            "config": config,
            "tools": tools,
            "content_lang": subtest.content_lang,
            "dictionary": subtest.dictionary if "dictionary" in tools else [],
            "reopened": request.GET.get("reopened") == "1",
        },
    )


@require_POST
def submit_view(request: HttpRequest) -> HttpResponse:
    attempt, problem = _current(request)
    wants_json = "application/json" in request.headers.get("Accept", "")
    if attempt is None:
        return (
            JsonResponse({"error": "login"}, status=401)
            if wants_json
            else redirect("student-login")
        )
    if problem == "replaced":
        return (
            JsonResponse({"error": "device_replaced"}, status=409)
            if wants_json
            else (_replaced(request))
        )
    try:
        attempt = attempts.attempt_submit(attempt=attempt)
    except attempts.AttemptRefused as exc:
        if wants_json:
            return JsonResponse({"error": exc.code, "detail": str(exc)}, status=409)
        messages.error(request, str(exc))
        return redirect("student-wait")
    if wants_json:
        return JsonResponse({"status": attempt.status, "attempt": str(attempt.public_id)})
    return redirect("student-done")


@never_cache
def done_view(request: HttpRequest) -> HttpResponse:
    attempt, problem = _current(request)
    if attempt is None:
        return redirect("student-login")
    if problem == "replaced":
        return _replaced(request)
    return render(request, "delivery/student/done.html", {"attempt": attempt})


# --- staff: printable login slips ---------------------------------------------------------------


def login_slips_view(request: HttpRequest, sitting: str) -> HttpResponse:
    """Proctors and test administrators of the sitting's unit print credentials and codes."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())  # settings.LOGIN_URL, the real page
    try:
        found = selectors.access_sitting(
            user=request.user, public_id=sitting, capability=Capability.PROCTOR
        )
    except NotFound:
        found = selectors.access_sitting(
            user=request.user, public_id=sitting, capability=Capability.ADMINISTER_TESTS
        )
    slips = None
    if request.method == "POST":
        slips = student_auth.login_slips_issue(
            actor=request.user,
            sitting=found,
            reset_passwords=request.POST.get("reset_passwords") == "1",
        )
    return render(
        request,
        "delivery/student/login_slips.html",
        {"sitting": found, "slips": slips, "unit": found.school_unit},
    )
