"""The platform operator's page for correcting an item's answer key or points after students
sat it. Everyone else gets 404 here."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from exams.definitions.key_corrections import item_key_correct
from exams.definitions.problems import DefinitionInvalid
from exams.definitions.selectors import require_operator
from exams.models import Item, ItemKind
from provplattform.errors import Refused


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
    require_operator(request.user)
    try:
        found = Item.objects.select_related("subtest__test").get(public_id=item)
    except (Item.DoesNotExist, ValueError) as exc:
        raise Http404("Not found.") from exc
    form = KeyCorrectionForm(request.POST or None, initial=_initial(found))
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            item_key_correct(
                actor=request.user,
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
