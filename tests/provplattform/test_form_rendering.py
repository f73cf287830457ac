"""Every Django form is drawn one way (provplattform.form_renderer, templates/forms/): a label
above each field, help text and errors tied to it by aria-describedby, the errors of no field in
an alert."""

from __future__ import annotations

import re
from pathlib import Path

from django import forms
from django.conf import settings

TEMPLATES = Path(settings.BASE_DIR) / "templates"


class _Sample(forms.Form):
    name = forms.CharField(label="Name", help_text="As on the door.")
    kind = forms.ChoiceField(
        label="Kind", choices=[("a", "A"), ("b", "B")], widget=forms.RadioSelect
    )


def test_a_field_has_its_label_and_is_described_by_its_help_text_and_errors():
    form = _Sample(data={"name": ""})
    form.is_valid()
    form.add_error(None, "Nothing fits.")
    html = str(form)
    assert '<div class="message message--error" role="alert">' in html
    assert "<p>Nothing fits.</p>" in html
    assert '<label for="id_name">Name</label>' in html
    assert 'id="id_name_helptext"' in html
    assert '<ul class="errorlist error-text" id="id_name_error">' in html
    widget = re.search(r"<input[^>]*name=\"name\"[^>]*>", html).group(0)
    assert 'aria-describedby="id_name_helptext id_name_error"' in widget
    assert 'aria-invalid="true"' in widget


def test_a_group_of_choices_is_a_fieldset_named_by_its_legend():
    html = str(_Sample())
    assert "<legend>Kind</legend>" in html
    assert html.count('<div class="field">') == 2


def test_templates_render_forms_only_through_the_renderer():
    hand_made = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if re.search(r"\.as_(p|ul|table|div)\b|_form_fields", path.read_text(encoding="utf-8"))
    ]
    assert hand_made == []
