"""Pages for sittings: when and where a subtest is taken, by whom and under whose eyes; catch-up
sittings for those who still have to sit."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.contrib import messages
from django.forms import ModelMultipleChoiceField
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect
from django.utils.translation import gettext as _

from exams import catch_up, readiness, selectors
from exams.forms import PostponeForm, SittingForm
from exams.models import SittingStatus
from exams.preparation.common import BulkSummary, ExamRefused
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
from exams.views.base import ADMIN, render_page, room_choices, room_filter
from provplattform.lookup import parse_public_ids
from provplattform.page_errors import shown_on
from schools.pages import AuthenticatedRequest, unit_page

if TYPE_CHECKING:
    from exams.models import Sitting
    from schools.models import Person, SchoolUnit


def _sitting_form(
    request: AuthenticatedRequest, school_unit: SchoolUnit, data: QueryDict | None = None
) -> SittingForm:
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
def sittings(request: AuthenticatedRequest, school_unit: SchoolUnit) -> HttpResponse:
    room = room_filter(request, school_unit)
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
    return render_page(
        request,
        "exams/sittings.html",
        {
            "unit": school_unit,
            "form": form,
            "sittings": selectors.sittings_for(
                user=request.user, school_unit=school_unit, room=room
            ),
            "planned_students": _planned_students(form),
            **room_choices(request, school_unit, room),
        },
        refusal.status,
    )


def _planned_students(form: SittingForm) -> list[Person]:
    """The students a catch-up sitting being planned will place (named above the form)."""
    ids = form["students"].value() or []
    students = cast(ModelMultipleChoiceField, form.fields["students"]).queryset
    if not ids or students is None:
        return []
    return list(students.filter(public_id__in=parse_public_ids(ids)))


@unit_page(ADMIN)
def still_to_sit(request: AuthenticatedRequest, school_unit: SchoolUnit) -> HttpResponse:
    """Who still has to sit, per subtest, with a link that plans their catch-up sitting."""
    groups = catch_up.still_to_sit(school_unit=school_unit)
    return render_page(
        request,
        "exams/still_to_sit.html",
        {
            "unit": school_unit,
            "groups": [(g, g.plan_url(school_unit)) for g in groups],
        },
    )


def _sitting_action(
    request: AuthenticatedRequest, school_unit: SchoolUnit, sitting: Sitting
) -> tuple[BulkSummary | None, Sitting | None]:
    """Run the POSTed action on a sitting; returns (summary, new sitting or None)."""
    action = request.POST.get("action")
    user = request.user

    def students_from(name: str) -> list[Person]:
        return selectors.persons_at(
            user=user, school_unit=school_unit, public_ids=request.POST.getlist(name)
        )

    def staff(name: str) -> Person:
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
def sitting_detail(request: AuthenticatedRequest, school_unit: SchoolUnit, sitting) -> HttpResponse:
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
    return render_page(
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
