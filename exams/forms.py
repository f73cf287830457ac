"""Forms of the before-the-day pages. Choice querysets are always scoped by the view."""

from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from exams.day_passwords import unit_zone
from exams.models import AdjustmentKind, ExemptionGround, Tool


class SubtestChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return f"{obj.test.title} – {obj.title}"


class PublicIdChoiceField(forms.ModelChoiceField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("to_field_name", "public_id")
        super().__init__(*args, **kwargs)


class PublicIdMultipleField(forms.ModelMultipleChoiceField):
    def __init__(self, *args, **kwargs):
        kwargs.setdefault("to_field_name", "public_id")
        super().__init__(*args, **kwargs)


class RoomForm(forms.Form):
    name = forms.CharField(label=_("Room name"), max_length=100)


class LocalDateTimeField(forms.DateTimeField):
    widget = forms.DateTimeInput(attrs={"type": "datetime-local"})

    def __init__(self, *args, zone=None, **kwargs):
        self.zone = zone
        kwargs.setdefault("input_formats", ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"])
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is not None and self.zone is not None:
            parsed = parsed.replace(tzinfo=None).replace(tzinfo=self.zone)
        return parsed


AUTOMATIC_NOTE = _("mandatory: assigned automatically")


class AssignForm(forms.Form):
    MODES = [
        ("students", _("Chosen students")),
        ("group", _("A teaching group")),
        ("grade", _("The whole grade")),
    ]
    subtest = PublicIdChoiceField(queryset=None, label=_("Subtest"))
    mode = forms.ChoiceField(choices=MODES, label=_("Assign to"))
    group = PublicIdChoiceField(queryset=None, required=False, label=_("Teaching group"))
    students = PublicIdMultipleField(queryset=None, required=False, label=_("Students"))

    def __init__(self, *args, subtests, groups, students, automatic=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subtest"].queryset = subtests
        # A test assigned automatically (mandatory, or registered) says so in the list: assigning
        # it again only refuses everyone.
        self.fields["subtest"].label_from_instance = lambda o: (
            f"{o.test.title} – {o.title}"
            + (f" ({AUTOMATIC_NOTE})" if o.test_id in automatic else "")
        )
        self.fields["group"].queryset = groups
        self.fields["students"].queryset = students


class CorrectAssignmentForm(forms.Form):
    reason = forms.CharField(label=_("Reason for the correction"), max_length=500)
    replacement = PublicIdChoiceField(
        queryset=None, required=False, label=_("Replace with subtest")
    )

    def __init__(self, *args, subtests, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["replacement"].queryset = subtests
        self.fields["replacement"].label_from_instance = lambda o: f"{o.test.title} – {o.title}"


class SittingForm(forms.Form):
    subtest = PublicIdChoiceField(queryset=None, label=_("Subtest"))
    room = PublicIdChoiceField(queryset=None, label=_("Room"))
    starts_at = LocalDateTimeField(label=_("Starts at"))
    proctors = PublicIdMultipleField(queryset=None, label=_("Proctors"))
    backup_proctors = PublicIdMultipleField(
        queryset=None, required=False, label=_("Backup proctors")
    )
    is_catch_up = forms.BooleanField(required=False, label=_("Catch-up sitting"))
    closes_at = LocalDateTimeField(
        required=False,
        label=_("Closes at (optional)"),
        help_text=_(
            "Tests still open then are submitted with their saved answers. Empty: when the "
            "subtest's opening hours end that day."
        ),
    )
    # Filled in from "Who still has to sit": the students the new sitting places at once.
    students = PublicIdMultipleField(
        queryset=None, required=False, widget=forms.MultipleHiddenInput
    )

    def __init__(self, *args, unit, subtests, rooms, proctors, students=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["students"].queryset = students if students is not None else subtests.none()
        self.fields["subtest"].queryset = subtests
        self.fields["subtest"].label_from_instance = lambda o: f"{o.test.title} – {o.title}"
        self.fields["room"].queryset = rooms
        self.fields["starts_at"].zone = unit_zone(unit)
        self.fields["closes_at"].zone = unit_zone(unit)
        self.fields["proctors"].queryset = proctors
        self.fields["backup_proctors"].queryset = proctors


class PostponeForm(forms.Form):
    starts_at = LocalDateTimeField(label=_("New start"))
    reason = forms.CharField(label=_("Reason"), max_length=500)

    def __init__(self, *args, unit, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["starts_at"].zone = unit_zone(unit)


class AdjustmentForm(forms.Form):
    student = PublicIdChoiceField(queryset=None, label=_("Student"))
    test = PublicIdChoiceField(queryset=None, label=_("Test"))
    subtest = PublicIdChoiceField(
        queryset=None, required=False, label=_("Subtest (empty: the whole test)")
    )
    extended_minutes = forms.IntegerField(
        required=False, min_value=1, max_value=600, label=_("Extended time, minutes")
    )
    extended_percent = forms.IntegerField(
        required=False, min_value=1, max_value=200, label=_("Extended time, percent")
    )
    tools = forms.MultipleChoiceField(
        choices=Tool.choices, required=False, label=_("Tools"), widget=forms.CheckboxSelectMultiple
    )
    other_kinds = forms.MultipleChoiceField(
        choices=[
            (k.value, k.label)
            for k in AdjustmentKind
            if k not in (AdjustmentKind.EXTENDED_TIME, AdjustmentKind.TOOLS)
        ],
        required=False,
        label=_("Other adjustments"),
        widget=forms.CheckboxSelectMultiple,
    )
    decided_by = PublicIdChoiceField(queryset=None, label=_("Decided by (head teacher)"))
    decided_on = forms.DateField(
        required=False, label=_("Decided on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    reason = forms.CharField(
        required=False, max_length=500, label=_("Reason (required after the student has started)")
    )

    def __init__(self, *args, students, tests, subtests, head_teachers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["student"].queryset = students
        self.fields["test"].queryset = tests
        self.fields["subtest"].queryset = subtests
        self.fields["subtest"].label_from_instance = lambda o: f"{o.test.title} – {o.title}"
        self.fields["decided_by"].queryset = head_teachers


class ExemptionForm(forms.Form):
    student = PublicIdChoiceField(queryset=None, label=_("Student"))
    test = PublicIdChoiceField(queryset=None, label=_("Test"))
    subtest = PublicIdChoiceField(
        queryset=None, required=False, label=_("Subtest (empty: the whole test)")
    )
    ground = forms.ChoiceField(choices=ExemptionGround.choices, label=_("Ground"))
    decision_reference = forms.CharField(max_length=100, label=_("Reference of the decision"))
    attested_no_significance = forms.BooleanField(
        required=False,
        label=_("The result of the test would not matter for the student's education"),
    )
    decided_by = PublicIdChoiceField(queryset=None, label=_("Decided by (head teacher)"))
    decided_on = forms.DateField(
        required=False, label=_("Decided on"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, students, tests, subtests, head_teachers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["student"].queryset = students
        self.fields["test"].queryset = tests
        self.fields["subtest"].queryset = subtests
        self.fields["subtest"].label_from_instance = lambda o: f"{o.test.title} – {o.title}"
        self.fields["decided_by"].queryset = head_teachers


class DayPasswordDateForm(forms.Form):
    date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


def parse_date(value: str | None) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value) if value else None
    except ValueError:
        return None
