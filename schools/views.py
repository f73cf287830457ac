"""Pages of the schools app: login, unit picker, dashboard, staff and roles, groups, students.

Views stay thin: every tenant lookup goes through schools.selectors (another school's unit is a
404, the same as a missing one) and every write through schools.services.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_POST

from schools import dashboard, navigation, selectors
from schools.auth import LOGIN_REFUSED_MESSAGE, login_attempt, password_reset_recorded
from schools.forms import LoginForm, RoleChangeForm, StaffPasswordResetForm
from schools.pages import AuthenticatedRequest, unit_page
from schools.roles import ROLE_TABLE, Capability, Role, assignable_roles
from schools.services import RoleRefused, role_assign, role_remove

STUDENTS_PER_PAGE = 25


# --- Login ----------------------------------------------------------------------------------------


def _safe_next(request: HttpRequest) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return resolve_url(settings.LOGIN_REDIRECT_URL)


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
def login_view(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated and request.method == "GET":
        return redirect(_safe_next(request))
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        user = login_attempt(
            request=request,
            username=form.cleaned_data["username"],
            password=form.cleaned_data["password"],
        )
        if user is not None:
            auth_login(request, user)  # rotates the session key
            return redirect(_safe_next(request))
        form.add_error(None, LOGIN_REFUSED_MESSAGE)
        status = 400
    next_url = request.POST.get("next") or request.GET.get("next", "")
    return render(request, "schools/login.html", {"form": form, "next": next_url}, status=status)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    return redirect(settings.LOGOUT_REDIRECT_URL)


# --- Password reset by e-mail (Django's views; the lock of an account is left as it is) ----------


class PasswordResetView(auth_views.PasswordResetView):
    form_class = StaffPasswordResetForm
    template_name = "schools/password_reset_form.html"
    email_template_name = "schools/password_reset_email.txt"
    subject_template_name = "schools/password_reset_subject.txt"
    success_url = reverse_lazy("password-reset-sent")


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    template_name = "schools/password_reset_sent.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "schools/password_reset_confirm.html"
    success_url = reverse_lazy("password-reset-complete")
    post_reset_login = False  # a new password never bypasses the per-account lock

    def form_valid(self, form):
        response = super().form_valid(form)
        password_reset_recorded(user=form.user)
        return response


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "schools/password_reset_complete.html"


# --- Unit picker and dashboard -------------------------------------------------------------------


@login_required
@require_GET
def home(request: AuthenticatedRequest) -> HttpResponse:
    units = list(selectors.school_units_visible_to(request.user)[:2])
    if len(units) == 1:
        return redirect("unit-dashboard", unit=units[0].public_id)
    # The platform operator has no school unit: their pages are the test definitions.
    landing = None if units else navigation.landing_url_for(request.user)
    return redirect(landing or "unit-picker")


@login_required
@require_GET
def unit_picker(request: AuthenticatedRequest) -> HttpResponse:
    units = selectors.school_units_visible_to(request.user).order_by("organiser__name", "name")
    return render(request, "schools/unit_picker.html", {"units": units})


@login_required
@require_GET
def unit_dashboard(request: AuthenticatedRequest, unit) -> HttpResponse:
    school_unit = selectors.access_visible_school_unit(user=request.user, public_id=unit)
    caps = selectors.capabilities_at(user=request.user, school_unit=school_unit)
    person = request.user.person
    my_roles = (
        selectors.roles_at(person=person, school_unit=school_unit) if person is not None else []
    )
    context = {
        "unit": school_unit,
        "capabilities": caps,
        "my_roles": [ROLE_TABLE[Role(r)].label for r in my_roles],
        "student_count": (
            selectors.students_of(user=request.user, school_unit=school_unit).count()
            if Capability.VIEW_STUDENTS in caps
            else None
        ),
        "staff_count": (
            selectors.staff_of(user=request.user, school_unit=school_unit).count()
            if Capability.VIEW_STAFF in caps
            else None
        ),
        "group_count": (
            selectors.teaching_groups_of(user=request.user, school_unit=school_unit).count()
            if Capability.VIEW_STUDENTS in caps
            else None
        ),
        "panels": dashboard.panels_for(request, school_unit, caps),
    }
    return render(request, "schools/unit_dashboard.html", context)


# --- Staff and roles -----------------------------------------------------------------------------


def _staff_page(request: AuthenticatedRequest, school_unit, *, form=None, status: int = 200):
    caps = selectors.capabilities_at(user=request.user, school_unit=school_unit)
    allowed = assignable_roles(caps)
    choices = [(r.value, ROLE_TABLE[r].label) for r in Role if r in allowed]
    context = {
        "unit": school_unit,
        "staff": selectors.staff_with_roles(user=request.user, school_unit=school_unit),
        "may_assign": bool(allowed),
        "role_choices": choices,
        "history": selectors.role_history(school_unit=school_unit),
        "form": form,
    }
    return render(request, "schools/staff.html", context, status=status)


@unit_page(Capability.VIEW_STAFF)
@require_GET
def unit_staff(request: AuthenticatedRequest, school_unit) -> HttpResponse:
    return _staff_page(request, school_unit)


def _role_change(request: AuthenticatedRequest, school_unit, *, assign: bool) -> HttpResponse:
    form = RoleChangeForm(request.POST)
    if not form.is_valid():
        return _staff_page(request, school_unit, form=form, status=400)
    person = selectors.person_of_unit(
        school_unit=school_unit, public_id=form.cleaned_data["person"]
    )
    role = Role(form.cleaned_data["role"])
    service = role_assign if assign else role_remove
    try:
        service(actor=request.user, person=person, school_unit=school_unit, role=role)
    except RoleRefused as refusal:
        messages.error(request, str(refusal))
        return _staff_page(request, school_unit, status=403)
    if assign:
        text = _("%(name)s now holds the role %(role)s.")
    else:
        text = _("%(name)s no longer holds the role %(role)s.")
    messages.success(request, text % {"name": person.full_name, "role": ROLE_TABLE[role].label})
    return redirect("unit-staff", unit=school_unit.public_id)


@unit_page(Capability.VIEW_STAFF)
@require_POST
def unit_role_assign(request: AuthenticatedRequest, school_unit) -> HttpResponse:
    return _role_change(request, school_unit, assign=True)


@unit_page(Capability.VIEW_STAFF)
@require_POST
def unit_role_remove(request: AuthenticatedRequest, school_unit) -> HttpResponse:
    return _role_change(request, school_unit, assign=False)


# --- Teaching groups and students ----------------------------------------------------------------


@unit_page(Capability.VIEW_STUDENTS)
@require_GET
def unit_groups(request: AuthenticatedRequest, school_unit) -> HttpResponse:
    groups = selectors.teaching_groups_of(user=request.user, school_unit=school_unit)
    return render(request, "schools/groups.html", {"unit": school_unit, "groups": groups})


@unit_page(Capability.VIEW_STUDENTS)
@require_GET
def unit_students(request: AuthenticatedRequest, school_unit) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:100]
    students = selectors.students_with_year(
        user=request.user, school_unit=school_unit, search=query
    )
    page = Paginator(students, STUDENTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"unit": school_unit, "page": page, "query": query}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "student-results":
        return render(request, "schools/_student_results.html", context)
    return render(request, "schools/students.html", context)
