"""Forms of the grading pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from grading.models import DistributionMode, OwnGroups


class DistributionForm(forms.Form):
    assessors = forms.MultipleChoiceField(
        label=_("Assessors"), widget=forms.CheckboxSelectMultiple, required=True
    )
    mode = forms.ChoiceField(
        label=_("Distribute"),
        choices=DistributionMode.choices,
        initial=DistributionMode.BY_STUDENT,
        widget=forms.RadioSelect,
    )
    by_item_items = forms.MultipleChoiceField(
        label=_("Items graded by item (mixed mode)"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    own_groups = forms.ChoiceField(
        label=_("Own groups"), choices=OwnGroups.choices, initial=OwnGroups.ANY
    )
    reason = forms.CharField(label=_("Reason (redistribution)"), max_length=500, required=False)

    def __init__(self, *args, assessors=(), items=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assessors"].choices = [(str(p.public_id), p.full_name) for p in assessors]
        self.fields["by_item_items"].choices = [
            (str(i.public_id), i.identifier) for i in items if not i.is_machine_scored
        ]


class DueDateForm(forms.Form):
    due_date = forms.DateField(
        label=_("Grading done by"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
