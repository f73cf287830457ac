"""Forms for the school pages. Validation of business rules lives in the services."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from schools.roles import ROLE_CHOICES


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("Username"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class RoleChangeForm(forms.Form):
    person = forms.UUIDField(widget=forms.HiddenInput)
    role = forms.ChoiceField(label=_("Role"), choices=ROLE_CHOICES)
