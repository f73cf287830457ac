"""A student who is "Working" and a service that is "Working" can be translated differently."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real

from delivery.models import AttemptStatus

CONTEXT = "\x04"  # how gettext catalogues key a message with a context


@pytest.fixture
def swedish_with_both_contexts():
    """Swedish, with the two contexts translated in the loaded catalogue for this test only."""
    with translation.override("sv"):
        catalog = trans_real.translation("sv")._catalog
        entries = {
            f"attempt status{CONTEXT}Working": "Skriver",
            f"service health{CONTEXT}Working": "Fungerar",
        }
        saved = {key: catalog.get(key) for key in entries}
        for key, value in entries.items():
            catalog[key] = value
        try:
            yield
        finally:
            for key, value in saved.items():
                if value is None:
                    for part in catalog._catalogs:
                        part.pop(key, None)
                else:
                    catalog[key] = value


def test_attempt_status_working_has_its_own_context(swedish_with_both_contexts):
    assert str(AttemptStatus.WORKING.label) == "Skriver"


def test_service_health_working_has_its_own_context(db, client, swedish_with_both_contexts):
    response = client.get(reverse("status"), HTTP_ACCEPT_LANGUAGE="sv")
    ok = [c["label"] for c in response.context["checks"] if c["state"] == "ok"]
    assert ok and set(ok) == {"Fungerar"}
