"""The platform operator's pages for test definitions: the list, a test, its lifecycle, uploads,
and the correction of an item's answer key or points after students sat it. Everyone else gets
404 here; item images are served to whoever holds their address (see `asset`)."""

from __future__ import annotations

import datetime
import mimetypes
from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from exams.definitions import qti_import, qti_package, selectors, services
from exams.definitions.format import check_test, export_yaml, parse_definition, read_text
from exams.definitions.key_corrections import item_key_correct
from exams.definitions.problems import DefinitionInvalid, Problem
from exams.definitions.rules import DefinitionRefused
from exams.models import DefinitionStatus, Item, ItemAsset, ItemKind, Programme
from provplattform.errors import Refused, get_or_not_found

if TYPE_CHECKING:
    from schools.models import User

MAX_DEFINITION_BYTES = 2 * 1024 * 1024


class QtiUploadForm(forms.Form):
    package = forms.FileField(label=gettext_lazy("QTI 3.0 package (zip)"))
    programme = forms.ChoiceField(label=gettext_lazy("Programme"), choices=Programme.choices)
    subject = forms.CharField(label=gettext_lazy("Subject"), max_length=100, required=False)
    grade = forms.IntegerField(label=gettext_lazy("Grade"), min_value=1, max_value=13, initial=9)
    window_start = forms.DateField(
        label=gettext_lazy("Test window from"), widget=forms.DateInput(attrs={"type": "date"})
    )
    window_end = forms.DateField(
        label=gettext_lazy("Test window until"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["window_start"].initial = today
        self.fields["window_end"].initial = today + datetime.timedelta(
            days=qti_import.DEFAULT_WINDOW_DAYS
        )

    def clean_package(self):
        package = self.cleaned_data["package"]
        if package.size > qti_package.MAX_PACKAGE_BYTES:
            raise forms.ValidationError(_("The package is larger than 50 MB."))
        return package

    def clean(self):
        data = super().clean()
        start, end = data.get("window_start"), data.get("window_end")
        if start and end and end < start:
            self.add_error("window_end", _("The window cannot end before it starts."))
        return data


class DefinitionUploadForm(forms.Form):
    definition = forms.FileField(label=gettext_lazy("Definition file (YAML or JSON)"))

    def clean_definition(self):
        file = self.cleaned_data["definition"]
        if file.size > MAX_DEFINITION_BYTES:
            raise forms.ValidationError(_("The file is larger than 2 MB."))
        return file


def _operator(request: HttpRequest) -> User:
    return selectors.require_operator(request.user)


@login_required
def test_list(request: HttpRequest) -> HttpResponse:
    tests = selectors.operator_tests(user=request.user)
    return render(request, "exams/operator/test_list.html", {"tests": tests})


@login_required
def test_detail(request: HttpRequest, test) -> HttpResponse:
    definition = selectors.access_operator_test(user=request.user, public_id=test)
    subtests = selectors.operator_subtests(test=definition)

    return render(
        request,
        "exams/operator/test_detail.html",
        {
            "test": definition,
            "subtests": subtests,
            "problems": check_test(definition) if definition.status == "draft" else [],
            "total_points": sum(
                (s.max_points or 0)
                if not s.on_platform
                else sum(i.max_points for i in s.items.all())
                for s in subtests
            ),
            "DefinitionStatus": DefinitionStatus,
        },
    )


@login_required
def test_export(request: HttpRequest, test) -> HttpResponse:
    definition = selectors.access_operator_test(user=request.user, public_id=test)
    response = HttpResponse(export_yaml(definition), content_type="text/yaml; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="{definition.code}-v{definition.version}.yaml"'
    )
    return response


def _lifecycle(request: HttpRequest, test, action, done: str) -> HttpResponse:
    definition = selectors.access_operator_test(user=request.user, public_id=test)
    try:
        result = action(actor=request.user, test=definition)
    except DefinitionRefused as exc:
        messages.error(request, str(exc))
        return redirect("exams-operator-test", test=definition.public_id)
    except DefinitionInvalid as exc:
        for problem in exc.problems:
            messages.error(request, str(problem))
        return redirect("exams-operator-test", test=definition.public_id)
    messages.success(request, done)
    return redirect("exams-operator-test", test=result.public_id)


@login_required
@require_POST
def test_publish(request: HttpRequest, test) -> HttpResponse:
    _operator(request)
    return _lifecycle(request, test, services.test_publish, _("The test is published."))


@login_required
@require_POST
def test_retire(request: HttpRequest, test) -> HttpResponse:
    _operator(request)
    return _lifecycle(request, test, services.test_retire, _("The test is retired."))


@login_required
@require_POST
def test_new_version(request: HttpRequest, test) -> HttpResponse:
    _operator(request)
    return _lifecycle(
        request, test, services.test_new_version, _("A new draft version was created.")
    )


@login_required
def qti_upload(request: HttpRequest) -> HttpResponse:
    operator = _operator(request)
    report = None
    form = QtiUploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        report = qti_import.import_package(
            actor=operator,
            file=form.cleaned_data["package"],
            programme=form.cleaned_data["programme"],
            subject=form.cleaned_data["subject"],
            grade=form.cleaned_data["grade"],
            window_start=form.cleaned_data["window_start"],
            window_end=form.cleaned_data["window_end"],
        )
        status = 200 if report.imported else 400
    elif request.method == "POST":
        status = 400
    return render(
        request, "exams/operator/qti_upload.html", {"form": form, "report": report}, status=status
    )


@login_required
def definition_upload(request: HttpRequest) -> HttpResponse:
    operator = _operator(request)
    form = DefinitionUploadForm(request.POST or None, request.FILES or None)
    problems: list = []
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["definition"]
        try:
            text = file.read().decode("utf-8")
            data = read_text(text, name=file.name)
            spec, problems = parse_definition(data)
            if spec.get("assets"):
                problems = [*problems, *_no_assets_problem()]
            if not problems:
                test = services.test_create(actor=operator, spec=spec)
                messages.success(request, _("The test was created as a draft."))
                return redirect("exams-operator-test", test=test.public_id)
        except UnicodeDecodeError:
            form.add_error("definition", _("The file is not UTF-8 text."))
        except DefinitionInvalid as exc:
            problems = exc.problems
        except DefinitionRefused as exc:
            form.add_error(None, str(exc))
    status = 400 if request.method == "POST" else 200
    return render(
        request,
        "exams/operator/definition_upload.html",
        {"form": form, "problems": problems},
        status=status,
    )


def _no_assets_problem():
    return [
        Problem(
            "assets",
            _(
                "Images cannot be uploaded with a single file; "
                "use a QTI package or load_definition."
            ),
        )
    ]


def asset(request: HttpRequest, asset) -> FileResponse:
    """An item image. Drafts only for the operator; published images to whoever holds the
    (unguessable) address — students in a test are not Django users."""
    found = get_or_not_found(ItemAsset.objects.select_related("test"), public_id=asset)
    if found.test.status == DefinitionStatus.DRAFT and not selectors.is_operator(request.user):
        raise Http404("Not found.")
    content_type = mimetypes.guess_type(found.path)[0] or "application/octet-stream"
    response = FileResponse(found.file.open("rb"), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- key corrections --------------------------------------------------------------------------


class KeyCorrectionForm(forms.Form):
    key = forms.CharField(
        label=gettext_lazy("Answer key"),
        required=False,
        help_text=gettext_lazy(
            "Choice items: the correct ids separated by commas. Text entry: the accepted answers, "
            "one per line. Numeric: the value, and the tolerance after a semicolon."
        ),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    points = forms.IntegerField(label=gettext_lazy("Points"), min_value=1, max_value=100)
    reason = forms.CharField(label=gettext_lazy("Reason"), max_length=500)


def _initial(item: Item) -> dict:
    key = item.answer_key
    if item.kind == ItemKind.NUMERIC and isinstance(key, dict):
        text = f"{key.get('value')}; {key.get('tolerance', 0)}"
    elif item.kind == ItemKind.TEXT_ENTRY:
        text = "\n".join(key or [])
    else:
        text = ", ".join(key or [])
    return {"key": text, "points": item.max_points}


def _key(item: Item, text: str) -> dict:
    if item.kind in (ItemKind.SINGLE_CHOICE, ItemKind.MULTIPLE_CHOICE):
        return {"correct": [c.strip() for c in text.split(",") if c.strip()]}
    if item.kind == ItemKind.TEXT_ENTRY:
        return {"accepted": [a.strip() for a in text.splitlines() if a.strip()]}
    if item.kind == ItemKind.NUMERIC:
        value, _sep, tolerance = text.partition(";")
        return {"value": value.strip(), "tolerance": tolerance.strip() or 0}
    return {}


@login_required
def item_key_correction(request: HttpRequest, item) -> HttpResponse:
    operator = _operator(request)
    try:
        found = Item.objects.select_related("subtest__test").get(public_id=item)
    except (Item.DoesNotExist, ValueError) as exc:
        raise Http404("Not found.") from exc
    form = KeyCorrectionForm(request.POST or None, initial=_initial(found))
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            item_key_correct(
                actor=operator,
                item=found,
                key=_key(found, form.cleaned_data["key"]),
                points=form.cleaned_data["points"],
                reason=form.cleaned_data["reason"],
            )
        except DefinitionInvalid as exc:
            form.add_error("key", "; ".join(str(p) for p in exc.problems))
            status = 400
        except Refused as exc:
            form.add_error(None, str(exc))
            status = 400
        else:
            messages.success(request, _("The key is corrected and the scores are recomputed."))
            return redirect("exams-operator-test", test=found.subtest.test.public_id)
    elif request.method == "POST":
        status = 400
    return render(
        request,
        "exams/operator/item_key_correction.html",
        {"item": found, "form": form},
        status=status,
    )
