"""Forms for the school pages. Validation of business rules lives in the services."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm
from django.db.models import Q
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


class StaffPasswordResetForm(PasswordResetForm):
    """Django's reset form, for staff as the organiser's transfer brings them.

    Transferred staff have no usable password and their address is on their Person, not the User,
    so Django's default (active users with a usable password, by User.email) would reach none of
    them. Here an active user is found by their own address or by that of their person (unless
    the organiser removed the person), and the link goes to the address that matched.
    """

    def get_users(self, email):
        return (
            get_user_model()
            ._default_manager.filter(
                Q(email__iexact=email)
                | Q(person__email__iexact=email, person__removed_at__isnull=True),
                is_active=True,
            )
            .select_related("person")
        )

    def send_mail(
        self,
        subject_template_name,
        email_template_name,
        context,
        from_email,
        to_email,
        html_email_template_name=None,
    ):
        # Django addresses the user's own e-mail; when that is not the address that matched,
        # the person's (from the transfer) is.
        user = context["user"]
        if to_email.casefold() != self.cleaned_data["email"].casefold() and user.person_id:
            to_email = user.person.email or to_email
        super().send_mail(
            subject_template_name,
            email_template_name,
            context,
            from_email,
            to_email,
            html_email_template_name=html_email_template_name,
        )
