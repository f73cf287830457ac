"""Closing a sitting in a real browser: the proctor submits for a student who is paused, then ends
the sitting after one confirmation that lists the test still open, which is submitted with it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.harness import RESULTS, browser_context, student_login

pytestmark = pytest.mark.browser


def test_proctor_submits_for_a_paused_student_and_ends_the_sitting(chromium, e2e, e2e_server):
    data = e2e.data
    sitting = data["sittings"]["closing"]
    kim, lo = sitting["students"]
    # given: both students are working
    student_login(e2e_server.base_url, kim, data["day_password"])
    student_login(e2e_server.base_url, lo, data["day_password"])
    context = browser_context(chromium)
    page = context.new_page()
    try:
        page.goto(e2e_server.base_url + "/login/")
        page.fill("input[name=username]", data["proctor"]["username"])
        page.fill("input[name=password]", data["proctor"]["password"])
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{e2e_server.base_url}/proctor/sittings/{sitting['id']}/")
        expect(page.locator("#live-state")).to_have_attribute("data-online", "true")
        kim_row = page.locator(f'#room-rows tr:has(th:text-is("{kim["name"]}"))')
        lo_row = page.locator(f'#room-rows tr:has(th:text-is("{lo["name"]}"))')
        expect(kim_row).to_have_attribute("data-attempt-status", "working")

        # when: the proctor pauses Kim, who then leaves; the proctor submits for her
        with page.expect_response(lambda r: "/actions/pause/" in r.url) as paused:
            kim_row.locator('button[data-action="pause"]').click()
        assert paused.value.ok
        expect(kim_row).to_have_attribute("data-attempt-status", "paused")
        kim_row.locator('button[data-action="submit"]').click()
        dialog = page.locator("#action-dialog")
        expect(dialog).to_be_visible()
        expect(page.locator("#action-minutes")).to_be_hidden()
        expect(page.locator("#action-reason")).to_be_focused()
        page.keyboard.press("Enter")  # no reason: refused in the form
        expect(page.locator("#action-dialog-error")).not_to_be_empty()
        page.fill("#action-reason", "Gick hem sjuk under pausen")
        with page.expect_response(lambda r: "/actions/submit/" in r.url) as submitted:
            page.keyboard.press("Enter")
        assert submitted.value.ok
        expect(dialog).to_be_hidden()
        expect(kim_row).to_have_attribute("data-attempt-status", "submitted")

        # then: ending lists Lo, who is still working, and submits her test with the end
        page.click('#end-sitting button[data-action="end"]')
        end_dialog = page.locator("#end-dialog")
        expect(end_dialog).to_be_visible()
        listed = page.locator("#end-open-list li")
        expect(listed).to_have_count(1)
        expect(listed.first).to_contain_text(lo["name"])
        page.screenshot(path=str(RESULTS / "proctor-end-sitting.png"))
        with page.expect_response(lambda r: "/actions/end/" in r.url) as ended:
            page.click("#end-confirm")
        assert ended.value.ok
        expect(end_dialog).to_be_hidden()
        expect(page.locator("#sitting-actions")).to_be_hidden()
        expect(page.locator("#end-sitting")).to_be_hidden()
        expect(lo_row).to_have_attribute("data-attempt-status", "submitted")
        expect(page.locator("#all-submitted")).to_be_visible()
    finally:
        context.close()

    statuses = e2e.db.query(
        "SELECT p.given_name, a.status FROM delivery_attempt a "
        "JOIN schools_person p ON p.id = a.person_id JOIN exams_sitting s ON s.id = a.sitting_id "
        "WHERE s.public_id = %s ORDER BY p.given_name",
        (e2e.db._uuid(sitting["id"]),),
    )
    assert statuses == [("Kim", "submitted"), ("Lo", "submitted")]
    reasons = e2e.db.query(
        "SELECT reason FROM provplattform_auditevent WHERE action = %s ORDER BY id",
        ("attempt.proctor_submit",),
    )
    assert [r for (r,) in reasons] == ["Gick hem sjuk under pausen", "sitting ended"]
