"""One way to render a Django form: `{{ form }}` in a template, drawn by templates/forms/.

Every form shows its label above the field, its help text and errors tied to the field with
`aria-describedby` (Django adds it, with `aria-invalid`, from the ids used there), and the
errors that belong to no field in an alert at the top. Settings name this class as
FORM_RENDERER; TemplatesSetting finds the project's templates and Django's widget templates
(the "django.forms" app) through the TEMPLATES setting.
"""

from __future__ import annotations

from django.forms.renderers import TemplatesSetting


class FormRenderer(TemplatesSetting):
    form_template_name = "forms/div.html"
    field_template_name = "forms/field.html"
