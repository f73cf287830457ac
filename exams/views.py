"""Pages of the preparation before the day. Thin: scope, call a service, render."""

from __future__ import annotations

import datetime

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from exams import catch_up, day_passwords, readiness, selectors
from exams.forms import (
    AdjustmentForm,
    AssignForm,
    CorrectAssignmentForm,
    ExemptionForm,
    PostponeForm,
    RoomForm,
    SittingForm,
    parse_date,
)
from exams.models import Programme, SittingStatus
from exams.preparation import decisions
from exams.preparation import rooms as room_services
from exams.preparation.assignments import (
    assignment_remove,
    assignment_replace,
    assignments_create,
    assignments_create_for_grade,
    assignments_create_for_group,
    registration_create,
)
from exams.preparation.common import ExamRefused
from exams.preparation.rules import binding_test_ids
from exams.preparation.sittings import (
    checklist_acknowledge,
    paper_replacement_record,
    sitting_add_proctor,
    sitting_add_students,
    sitting_create,
    sitting_postpone,
    sitting_remove_proctor,
    sitting_remove_student,
    sitting_set_result_enterer,
)
from provplattform.lookup import parse_public_ids
from provplattform.page_errors import shown_on
from schools.pages import unit_page
from schools.roles import Capability
from schools.selectors import capabilities_at

ADMIN = Capability.ADMINISTER_TESTS


def _room_filter(request: HttpRequest, school_unit):
    room_id = request.GET.get("room")
    if not room_id:
        return None
    return selectors.access_room(user=request.user, school_unit=school_unit, public_id=room_id)


def _render(request, template: str, context: dict, status: int = 200) -> HttpResponse:
    context.setdefault(
        "capabilities", capabilities_at(user=request.user, school_unit=context["unit"])
    )
    return render(request, template, context, status=status)


# --- overview -----------------------------------------------------------------------------------


@unit_page(ADMIN)
def prepare(request: HttpRequest, school_unit) -> HttpResponse:
    return _render(
        request,
        "exams/prepare.html",
        {
            "unit": school_unit,
            "readiness_panel": {
                "sittings": readiness.unit_readiness(school_unit=school_unit, limit=5)
            },
        },
    )


# --- rooms --------------------------------------------------------------------------------------


@unit_page(ADMIN)
def rooms(request: HttpRequest, school_unit) -> HttpResponse:
    form = RoomForm(request.POST or None)
    refusal = shown_on(request, form, "name")
    if request.method == "POST" and form.is_valid():
        with refusal:
            room_services.room_create(
                actor=request.user, school_unit=school_unit, name=form.cleaned_data["name"]
            )
            messages.success(request, _("Room added."))
            return redirect("exams-rooms", school_unit.public_id)
    return _render(
        request,
        "exams/rooms.html",
        {
            "unit": school_unit,
            "form": form,
            "rooms": selectors.rooms_for(user=request.user, school_unit=school_unit),
        },
        refusal.status,
    )


@unit_page(ADMIN, refused_to="exams-rooms")
@require_POST
def room_delete(request: HttpRequest, school_unit, room) -> HttpResponse:
    target = selectors.access_room(user=request.user, school_unit=school_unit, public_id=room)
    room_services.room_delete(actor=request.user, room=target)
    messages.success(request, _("Room removed."))
    return redirect("exams-rooms", school_unit.public_id)


# --- registrations ------------------------------------------------------------------------------


@unit_page(ADMIN)
def registrations(request: HttpRequest, school_unit) -> HttpResponse:
    refusal = shown_on(request)
    if request.method == "POST":
        test = selectors.access_test(school_unit=school_unit, public_id=request.POST.get("test"))
        with refusal:
            registration_create(actor=request.user, school_unit=school_unit, test=test)
            messages.success(request, _("Registered. The test is now assigned to the grade."))
            return redirect("exams-registrations", school_unit.public_id)
    return _render(
        request,
        "exams/registrations.html",
        {
            "unit": school_unit,
            "tests": selectors.voluntary_tests_for(school_unit=school_unit),
            "today": day_passwords.unit_today(school_unit),
        },
        refusal.status,
    )


# --- assignments --------------------------------------------------------------------------------


def _assign_form(request, school_unit, data=None):
    return AssignForm(
        data,
        subtests=selectors.subtests_for_unit(school_unit=school_unit),
        groups=selectors.groups_for(user=request.user, school_unit=school_unit),
        students=selectors.students_for(user=request.user, school_unit=school_unit),
        automatic=binding_test_ids(school_unit=school_unit),
    )


@unit_page(ADMIN)
def assignments(request: HttpRequest, school_unit) -> HttpResponse:
    room = _room_filter(request, school_unit)
    subtest = None
    if request.GET.get("subtest"):
        subtest = selectors.access_subtest(
            school_unit=school_unit, public_id=request.GET["subtest"]
        )
    form = _assign_form(request, school_unit, request.POST or None)
    # Shown as a message above the form, which stays filled in for another try.
    refusal, form_status = shown_on(request), shown_on(request, form)
    summary = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        kwargs = {"actor": request.user, "school_unit": school_unit, "subtest": data["subtest"]}
        with refusal:
            if data["mode"] == "group":
                if data["group"] is None:
                    raise ExamRefused(_("Choose a teaching group."))
                summary = assignments_create_for_group(group=data["group"], **kwargs)
            elif data["mode"] == "grade":
                summary = assignments_create_for_grade(**kwargs)
            else:
                summary = assignments_create(persons=data["students"], **kwargs)
    rows = selectors.assignments_for(
        user=request.user,
        school_unit=school_unit,
        subtest=subtest,
        room=room,
        unplaced=request.GET.get("unplaced") == "1",
    )
    return _render(
        request,
        "exams/assignments.html",
        {
            "unit": school_unit,
            "form": form,
            "summary": summary,
            "assignments": rows,
            "rooms": selectors.rooms_for(user=request.user, school_unit=school_unit),
            "subtests": selectors.subtests_for_unit(school_unit=school_unit),
            "room_filter": room,
            "subtest_filter": subtest,
        },
        max(refusal.status, form_status.status),
    )


@unit_page(ADMIN)
def assignment_correct(request: HttpRequest, school_unit, assignment) -> HttpResponse:
    target = selectors.access_assignment(
        user=request.user, school_unit=school_unit, public_id=assignment
    )
    form = CorrectAssignmentForm(
        request.POST or None, subtests=selectors.subtests_for_unit(school_unit=school_unit)
    )
    refusal = shown_on(request, form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal:
            if data["replacement"] is not None:
                assignment_replace(
                    actor=request.user,
                    assignment=target,
                    subtest=data["replacement"],
                    reason=data["reason"],
                )
            else:
                assignment_remove(actor=request.user, assignment=target, reason=data["reason"])
            messages.success(request, _("Assignment corrected."))
            return redirect("exams-assignments", school_unit.public_id)
    return _render(
        request,
        "exams/assignment_correct.html",
        {
            "unit": school_unit,
            "assignment": target,
            "form": form,
        },
        refusal.status,
    )


# --- sittings -----------------------------------------------------------------------------------


def _sitting_form(request, school_unit, data=None):
    students = selectors.students_for(user=request.user, school_unit=school_unit)
    initial = {}
    if data is None and request.GET.get("subtest"):
        # A catch-up sitting planned from "Who still has to sit": subtest and students filled in.
        initial = {
            "subtest": request.GET["subtest"],
            "is_catch_up": request.GET.get("catch_up") == "1",
            "students": [str(i) for i in parse_public_ids(request.GET.getlist("students"))],
        }
    return SittingForm(
        data,
        initial=initial,
        unit=school_unit,
        subtests=selectors.subtests_for_unit(school_unit=school_unit),
        rooms=selectors.rooms_for(user=request.user, school_unit=school_unit),
        proctors=selectors.proctor_candidates(user=request.user, school_unit=school_unit),
        students=students,
    )


@unit_page(ADMIN)
def sittings(request: HttpRequest, school_unit) -> HttpResponse:
    room = _room_filter(request, school_unit)
    form = _sitting_form(request, school_unit, request.POST or None)
    refusal = shown_on(request, form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal:
            result = sitting_create(
                actor=request.user,
                school_unit=school_unit,
                subtest=data["subtest"],
                room=data["room"],
                starts_at=data["starts_at"],
                proctors=data["proctors"],
                backup_proctors=data["backup_proctors"],
                is_catch_up=data["is_catch_up"],
                students=data["students"],
                closes_at=data["closes_at"],
            )
            if result.students.changed or result.students.refused:
                messages.success(
                    request,
                    _("Sitting scheduled: %(placed)d placed, %(refused)d refused.")
                    % {
                        "placed": len(result.students.changed),
                        "refused": len(result.students.refused),
                    },
                )
                for row in result.students.refused:
                    messages.warning(request, f"{row['name']}: {row['reason']}")
            else:
                messages.success(request, _("Sitting scheduled. Now place its students."))
            return redirect("exams-sitting", school_unit.public_id, result.sitting.public_id)
    return _render(
        request,
        "exams/sittings.html",
        {
            "unit": school_unit,
            "form": form,
            "room_filter": room,
            "rooms": selectors.rooms_for(user=request.user, school_unit=school_unit),
            "sittings": selectors.sittings_for(
                user=request.user, school_unit=school_unit, room=room
            ),
            "planned_students": _planned_students(form),
        },
        refusal.status,
    )


def _planned_students(form) -> list:
    """The students a catch-up sitting being planned will place (named above the form)."""
    ids = form["students"].value() or []
    if not ids:
        return []
    field = form.fields["students"]
    return list(field.queryset.filter(public_id__in=parse_public_ids(ids)))


@unit_page(ADMIN)
def still_to_sit(request: HttpRequest, school_unit) -> HttpResponse:
    """Who still has to sit, per subtest, with a link that plans their catch-up sitting."""
    groups = catch_up.still_to_sit(school_unit=school_unit)
    return _render(
        request,
        "exams/still_to_sit.html",
        {
            "unit": school_unit,
            "groups": [(g, g.plan_url(school_unit)) for g in groups],
        },
    )


def _sitting_action(request, school_unit, sitting):
    """Run the POSTed action on a sitting; returns (summary, new sitting or None)."""
    action = request.POST.get("action")
    user = request.user

    def students_from(name):
        return selectors.persons_at(
            user=user, school_unit=school_unit, public_ids=request.POST.getlist(name)
        )

    def staff(name):
        value = request.POST.get(name)
        if not value:
            raise ExamRefused(_("Choose a member of staff."))
        # A person of the unit (another unit's is not found); the service refuses the rest.
        return selectors.access_staff_member(school_unit=school_unit, public_id=value)

    if action == "add_students":
        ids = request.POST.getlist("students")
        found = students_from("students")
        summary = sitting_add_students(actor=user, sitting=sitting, persons=found)
        return summary.refuse_unknown(ids, found), None
    if action == "remove_student":
        for person in students_from("student"):
            sitting_remove_student(
                actor=user, sitting=sitting, person=person, reason=request.POST.get("reason", "")
            )
        return None, None
    if action == "add_proctor":
        sitting_add_proctor(
            actor=user,
            sitting=sitting,
            person=staff("person"),
            is_backup=request.POST.get("is_backup") == "1",
        )
        return None, None
    if action == "remove_proctor":
        proctor = selectors.access_sitting_proctor(
            sitting=sitting, public_id=request.POST.get("person")
        )
        sitting_remove_proctor(actor=user, sitting=sitting, person=proctor)
        return None, None
    if action == "result_enterer":
        sitting_set_result_enterer(actor=user, sitting=sitting, person=staff("person"))
        return None, None
    if action == "postpone":
        form = PostponeForm(request.POST, unit=school_unit)
        if not form.is_valid():
            raise ExamRefused(_("Give a new start time and a reason."))
        new = sitting_postpone(
            actor=user,
            sitting=sitting,
            starts_at=form.cleaned_data["starts_at"],
            reason=form.cleaned_data["reason"],
        )
        return None, new
    if action == "paper_replacement":
        for person in students_from("student"):
            paper_replacement_record(
                actor=user,
                school_unit=school_unit,
                subtest=sitting.subtest,
                person=person,
                note=request.POST.get("note", ""),
            )
        return None, None
    if action == "acknowledge":
        checklist_acknowledge(
            actor=user, school_unit=school_unit, sitting=sitting, key=request.POST.get("key", "")
        )
        return None, None
    raise ExamRefused(_("Unknown action."))


@unit_page(ADMIN)
def sitting_detail(request: HttpRequest, school_unit, sitting) -> HttpResponse:
    target = selectors.access_sitting(user=request.user, school_unit=school_unit, public_id=sitting)
    summary, refusal = None, shown_on(request)
    if request.method == "POST":
        with refusal:
            summary, new = _sitting_action(request, school_unit, target)
            if new is not None:
                messages.success(request, _("Sitting postponed."))
                return redirect("exams-sitting", school_unit.public_id, new.public_id)
            if summary is None:
                messages.success(request, _("Saved."))
                return redirect("exams-sitting", school_unit.public_id, target.public_id)
    placed = selectors.sitting_students(sitting=target)
    unplaced = selectors.assignments_for(
        user=request.user, school_unit=school_unit, subtest=target.subtest, unplaced=True
    ).filter(is_exempt=False)
    return _render(
        request,
        "exams/sitting_detail.html",
        {
            "unit": school_unit,
            "sitting": target,
            "summary": summary,
            "students": placed,
            "unplaced": unplaced,
            "proctorships": target.proctorships.select_related("person"),
            "candidates": selectors.proctor_candidates(user=request.user, school_unit=school_unit),
            "result_candidates": selectors.result_enterer_candidates(
                user=request.user, school_unit=school_unit
            )
            if not target.subtest.on_platform
            else [],
            "readiness": readiness.sitting_readiness(target),
            "postpone_form": PostponeForm(unit=school_unit),
            "scheduled": target.status == SittingStatus.SCHEDULED,
        },
        refusal.status,
    )


# --- day password -------------------------------------------------------------------------------


@unit_page(Capability.VIEW_DAY_PASSWORD)
def day_password(request: HttpRequest, school_unit) -> HttpResponse:
    today = day_passwords.unit_today(school_unit)
    day = parse_date(request.GET.get("date")) or today
    if day < today:
        day = today
    record = day_passwords.day_password_for(school_unit=school_unit, date=day)
    return _render(
        request,
        "exams/day_password.html",
        {
            "unit": school_unit,
            "date": day,
            "today": today,
            "password": day_passwords.display(record.password),
            "next_day": day + datetime.timedelta(days=1),
        },
    )


# --- adjustments --------------------------------------------------------------------------------


def _adjustment_form(request, school_unit, data=None):
    cap = Capability.ENTER_ADJUSTMENTS
    return AdjustmentForm(
        data,
        students=selectors.students_for(user=request.user, school_unit=school_unit, capability=cap),
        tests=selectors.tests_for_unit(school_unit=school_unit),
        subtests=selectors.subtests_for_unit(school_unit=school_unit),
        head_teachers=selectors.head_teachers_at(school_unit=school_unit),
    )


@unit_page(Capability.ENTER_ADJUSTMENTS)
def adjustments(request: HttpRequest, school_unit) -> HttpResponse:
    room = (
        _room_filter(request, school_unit)
        if ADMIN in capabilities_at(user=request.user, school_unit=school_unit)
        else None
    )
    form = _adjustment_form(request, school_unit, request.POST or None)
    refusal = shown_on(request, form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal:
            decisions.adjustment_set(
                actor=request.user,
                school_unit=school_unit,
                person=data["student"],
                test=data["test"],
                subtest=data["subtest"],
                extended_minutes=data["extended_minutes"],
                extended_percent=data["extended_percent"],
                tools=data["tools"],
                other_kinds=data["other_kinds"],
                decided_by=data["decided_by"],
                decided_on=data["decided_on"],
                reason=data["reason"],
            )
            messages.success(request, _("Adjustment saved."))
            return redirect("exams-adjustments", school_unit.public_id)
    return _render(
        request,
        "exams/adjustments.html",
        {
            "unit": school_unit,
            "form": form,
            "room_filter": room,
            "rooms": selectors.rooms_for(user=request.user, school_unit=school_unit),
            "adjustments": selectors.adjustments_for(
                user=request.user, school_unit=school_unit, room=room
            ),
        },
        refusal.status,
    )


@unit_page(Capability.ENTER_ADJUSTMENTS, refused_to="exams-adjustments")
@require_POST
def adjustment_remove(request: HttpRequest, school_unit, adjustment) -> HttpResponse:
    target = selectors.access_adjustment(
        user=request.user, school_unit=school_unit, public_id=adjustment
    )
    decisions.adjustment_remove(
        actor=request.user, adjustment=target, reason=request.POST.get("reason", "")
    )
    messages.success(request, _("Adjustment removed."))
    return redirect("exams-adjustments", school_unit.public_id)


# --- exemptions ---------------------------------------------------------------------------------


@unit_page(Capability.DECIDE_EXEMPTIONS)
def exemptions(request: HttpRequest, school_unit) -> HttpResponse:
    cap = Capability.DECIDE_EXEMPTIONS
    tests = selectors.tests_for_unit(school_unit=school_unit).filter(programme=Programme.NO_MAPPING)
    form = ExemptionForm(
        request.POST or None,
        students=selectors.students_for(user=request.user, school_unit=school_unit, capability=cap),
        tests=tests,
        subtests=selectors.subtests_for_unit(school_unit=school_unit).filter(test__in=tests),
        head_teachers=selectors.head_teachers_at(school_unit=school_unit),
    )
    room = _room_filter(request, school_unit)
    refusal = shown_on(request, form)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        with refusal:
            decisions.exemption_create(
                actor=request.user,
                school_unit=school_unit,
                person=data["student"],
                test=data["test"],
                subtest=data["subtest"],
                ground=data["ground"],
                decision_reference=data["decision_reference"],
                attested_no_significance=data["attested_no_significance"],
                decided_by=data["decided_by"],
                decided_on=data["decided_on"],
            )
            messages.success(request, _("Exemption recorded."))
            return redirect("exams-exemptions", school_unit.public_id)
    return _render(
        request,
        "exams/exemptions.html",
        {
            "unit": school_unit,
            "form": form,
            "is_norwegian": tests.exists(),
            "room_filter": room,
            "rooms": selectors.rooms_for(user=request.user, school_unit=school_unit),
            "exemptions": selectors.exemptions_for(
                user=request.user, school_unit=school_unit, room=room
            ),
        },
        refusal.status,
    )


@unit_page(Capability.DECIDE_EXEMPTIONS, refused_to="exams-exemptions")
@require_POST
def exemption_remove(request: HttpRequest, school_unit, exemption) -> HttpResponse:
    target = selectors.access_exemption(
        user=request.user, school_unit=school_unit, public_id=exemption
    )
    decisions.exemption_remove(
        actor=request.user, exemption=target, reason=request.POST.get("reason", "")
    )
    messages.success(request, _("Exemption withdrawn."))
    return redirect("exams-exemptions", school_unit.public_id)


# --- readiness ----------------------------------------------------------------------------------


@unit_page(ADMIN, refused_to="exams-readiness")
def readiness_page(request: HttpRequest, school_unit, printable: bool = False) -> HttpResponse:
    if request.method == "POST":
        sitting = None
        if request.POST.get("sitting"):
            sitting = selectors.access_sitting(
                user=request.user, school_unit=school_unit, public_id=request.POST["sitting"]
            )
        checklist_acknowledge(
            actor=request.user,
            school_unit=school_unit,
            sitting=sitting,
            key=request.POST.get("key", ""),
        )
        messages.success(request, _("Acknowledged."))
        return redirect(reverse("exams-readiness", args=[school_unit.public_id]))
    template = "exams/readiness_print.html" if printable else "exams/readiness.html"
    room = _room_filter(request, school_unit)
    return _render(
        request,
        template,
        {
            "unit": school_unit,
            "room_filter": room,
            "rooms": selectors.rooms_for(user=request.user, school_unit=school_unit),
            "sittings": readiness.unit_readiness(school_unit=school_unit, room=room),
        },
    )
