"""What the exam client promises, checked in a real browser against the real server.

- The 10- and 1-minute warnings reach the screen-reader live region once each: not on every
  tick, and not again after a reload (the client remembers them in local storage).
- Local storage holds the buffered answers under a key naming the attempt, and that key is gone
  once a confirmed submit is accepted by the server; other attempts' keys are left alone.
- A student can do the whole test with the keyboard alone.
- The offline banner goes once the server answers again, even with nothing left to send.
- A test whose time ran out and which the proctor reopens with minutes comes back by itself on
  the student's "submitted" page, says so, and takes answers again.
- An old device's unsent buffer never overwrites answers given since on the device that replaced
  it, while that old device's own unacknowledged save still counts as its own.

The students are those of the seeded "client" sitting (released up front), one per test.
"""

from __future__ import annotations

import datetime
import re
import uuid

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import (
    attempt_of,
    browser_context,
    staff_client,
    student_login_page,
    wait_all_saved,
)

pytestmark = pytest.mark.browser

# Calls window.ppAnnounced(text) whenever the live region's content is replaced. Installed before
# any page script runs, so a warning given while the client starts is heard too.
ANNOUNCEMENT_RECORDER = """
new MutationObserver(function (mutations) {
  var region = document.getElementById("exam-announcer");
  if (!region) { return; }
  var changed = mutations.some(function (m) {
    return m.target === region || m.target.parentNode === region;
  });
  if (changed) { window.ppAnnounced(region.textContent); }
}).observe(document, {childList: true, characterData: true, subtree: true});
"""
TEN, ONE = "10 minutes left.", "1 minute left."
STORED = "key => JSON.parse(window.localStorage.getItem(key))"
CLOCK = (
    "() => [document.getElementById('exam-timer').textContent,"
    " document.getElementById('exam-announcer').textContent]"
)
ATTEMPT_KEYS = "Object.keys(window.localStorage).filter(k => k.startsWith('pp-attempt-')).sort()"


@pytest.fixture
def open_test(chromium, e2e, e2e_server):
    """Open the test as student `index` of the "client" sitting: (page, attempt)."""
    contexts = []

    def open_(index: int, *, heard: list[str] | None = None) -> tuple[Page, str]:
        context = browser_context(chromium)
        contexts.append(context)
        if heard is not None:
            context.expose_function("ppAnnounced", lambda text: heard.append(text))
            context.add_init_script(ANNOUNCEMENT_RECORDER)
        page = context.new_page()
        student = e2e.data["sittings"]["client"]["students"][index]
        student_login_page(page, e2e_server.base_url, student, e2e.data["day_password"])
        page.wait_for_url("**/student/test/")
        page.wait_for_function("() => window.ppExam !== undefined")
        return page, attempt_of(page)

    yield open_
    for context in contexts:
        context.close()


def _items(e2e) -> list[str]:
    return [item["id"] for item in e2e.data["items"]]


def _deadline_in(e2e, page: Page, attempt: str, seconds: float) -> tuple[str, str]:
    """Move the deadline `seconds` ahead and reload, so the client takes it from the server:
    (the timer shown, the live region's text) right after the client's first tick."""
    now = datetime.datetime.now(datetime.UTC)
    e2e.db.deadline_set(attempt, now + datetime.timedelta(seconds=seconds))
    page.reload()
    page.wait_for_function("() => window.ppExam !== undefined")
    return page.evaluate(CLOCK)


def test_time_warnings_are_announced_once_and_not_again_after_a_reload(e2e, open_test):
    heard: list[str] = []
    page, attempt = open_test(0, heard=heard)
    region = page.locator("#exam-announcer")
    expect(region).to_have_attribute("aria-live", "polite")
    page.wait_for_timeout(1_500)
    assert heard == []  # 90 minutes left: nothing to say

    # when: the deadline comes within 10 minutes and 5 seconds
    shown, said = _deadline_in(e2e, page, attempt, 605)
    assert re.fullmatch(r"10:0[1-5]", shown) and said == "", (shown, said)  # not yet

    # then: the warning is given as 10:00 passes, once, however many ticks follow
    expect(region).to_have_text(TEN, timeout=8_000)
    page.wait_for_timeout(3_000)
    assert heard == [TEN]
    assert page.evaluate(STORED, f"pp-attempt-{attempt}")["warned"] == {"ten": True}
    # ...and a reload inside the last 10 minutes does not give it again
    page.reload()
    page.wait_for_timeout(2_500)
    assert heard == [TEN]
    expect(region).to_have_text("")

    # when: the deadline comes within 1 minute and 4 seconds (the 10-minute warning stays said)
    shown, said = _deadline_in(e2e, page, attempt, 64)
    assert re.fullmatch(r"01:0[1-4]", shown) and said == "", (shown, said)
    expect(region).to_have_text(ONE, timeout=8_000)
    page.wait_for_timeout(3_000)
    assert heard == [TEN, ONE]
    page.reload()
    page.wait_for_timeout(2_500)
    assert heard == [TEN, ONE]
    expect(region).to_have_text("")


def test_local_storage_is_per_attempt_and_cleared_after_a_confirmed_submit(e2e, open_test):
    items = _items(e2e)
    page, attempt = open_test(1)
    key = f"pp-attempt-{attempt}"
    other = f"pp-attempt-{uuid.uuid4()}"  # left on this device by another attempt

    # given: answers are made and acknowledged
    page.check(f'input[name="answer-{items[0]}"][value="A"]')
    page.click('.exam-nav [data-goto="3"]')
    page.fill(f'input[name="answer-{items[3]}"]', "sju")
    wait_all_saved(page)
    assert page.evaluate(ATTEMPT_KEYS) == [key]
    stored = page.evaluate(STORED, key)
    assert stored["items"][items[0]]["content"] == ["A"]
    assert stored["items"][items[3]]["content"] == "sju"
    assert stored["acked"][items[3]] == stored["items"][items[3]]["seq"]
    page.evaluate("k => window.localStorage.setItem(k, JSON.stringify({items: {}}))", other)

    # when: the student opens the confirmation but keeps working, the local copy stays
    page.click('.exam-nav [data-goto="overview"]')
    page.click("#exam-submit")
    page.click("#confirm-cancel")
    expect(page.locator("#exam-confirm")).not_to_be_visible()
    assert page.evaluate(ATTEMPT_KEYS) == sorted([key, other])

    # when: she submits and confirms
    page.click("#exam-submit")
    page.click("#confirm-submit")
    page.wait_for_url("**/student/done/")
    expect(page.locator("h1")).to_have_text("Your test is submitted")

    # then: the server holds the submit and the answers; this attempt's key is gone, not others'
    assert e2e.db.attempt_status(attempt) == "submitted"
    held = e2e.db.responses(attempt)
    assert held[items[0]][1] == ["A"] and held[items[3]][1] == "sju"
    assert page.evaluate(ATTEMPT_KEYS) == [other]


def test_confirming_while_an_answer_is_still_on_its_way_submits_at_once(e2e, open_test):
    items = _items(e2e)
    page, attempt = open_test(3)
    held = []  # the first save stays on its way until the student has confirmed

    def hold_first(route):
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route("**/saves", hold_first)
    # given: an answer typed and the test submitted before its save has come back
    page.click('.exam-nav [data-goto="3"]')
    page.fill(f'input[name="answer-{items[3]}"]', "sju")
    page.click('.exam-nav [data-goto="overview"]')
    page.click("#exam-submit")
    page.wait_for_function("() => window.ppExam.pending().length === 1")
    for _ in range(50):  # the route handler runs while Playwright waits
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the save was never sent"
    # when: she confirms straight away, and only then does the save arrive
    page.click("#confirm-submit")
    page.wait_for_timeout(300)
    assert page.locator("#confirm-error").text_content() == ""
    held[0].continue_()
    # then: one confirmation is enough; the submit waited for the save, nothing is lost
    page.wait_for_url("**/student/done/", timeout=15_000)
    assert e2e.db.attempt_status(attempt) == "submitted"
    assert e2e.db.responses(attempt)[items[3]][1] == "sju"


def _focused(page: Page, selector: str) -> bool:
    return page.evaluate(
        "s => !!document.activeElement && document.activeElement.matches(s)", selector
    )


def _tab_to(page: Page, selector: str, *, back: bool = False, limit: int = 60) -> None:
    """Press Tab (Shift+Tab with `back`) until `selector` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        if _focused(page, selector):
            return
    active = page.evaluate("document.activeElement && document.activeElement.outerHTML")
    raise AssertionError(f"{selector} never got the focus; it stayed on {active}")


def test_the_whole_test_can_be_done_with_the_keyboard(e2e, open_test):
    items = _items(e2e)
    page, attempt = open_test(2)
    keys = page.keyboard
    choice = f'input[name="answer-{items[0]}"]'

    # item 1, single choice: into the radio group, pick the first, then the next with an arrow
    _tab_to(page, choice)
    keys.press("Space")
    keys.press("ArrowDown")
    expect(page.locator(f'{choice}[value="B"]')).to_be_checked()
    expect(page.locator(f'{choice}[value="A"]')).not_to_be_checked()
    # ...flag it for review
    _tab_to(page, '.exam-item[data-index="0"] .exam-flag__box')
    keys.press("Space")
    expect(page.locator('.exam-item[data-index="0"] .exam-flag__box')).to_be_checked()

    # "Next" moves to item 2 and puts the focus on its heading
    _tab_to(page, "#exam-next")
    keys.press("Enter")
    expect(page.locator("#item-heading-1")).to_be_focused()
    # back to the item list, on to item 4 (text entry), and type the answer
    _tab_to(page, '.exam-nav [data-goto="3"]', back=True)
    keys.press("Enter")
    expect(page.locator("#item-heading-3")).to_be_focused()
    _tab_to(page, f"#answer-{items[3]}")
    keys.type("sju")

    # the overview tells what is answered and flagged
    _tab_to(page, '.exam-nav [data-goto="overview"]', back=True)
    keys.press("Enter")
    expect(page.locator("#overview-heading")).to_be_focused()
    expect(page.locator("#overview-summary")).to_have_text("2 of 5 answered, 1 flagged for review.")
    expect(page.locator(f'tr[data-item="{items[0]}"] .overview-flagged')).to_have_text("Flagged")
    wait_all_saved(page)

    # submit, confirm in the dialog (the focus starts on "Keep working")
    _tab_to(page, "#exam-submit")
    keys.press("Enter")
    expect(page.locator("#confirm-cancel")).to_be_focused()
    keys.press("Tab")
    expect(page.locator("#confirm-submit")).to_be_focused()
    keys.press("Enter")
    page.wait_for_url("**/student/done/")

    # the server holds the submit, both answers and the flag
    assert e2e.db.attempt_status(attempt) == "submitted"
    held = e2e.db.responses(attempt)
    assert held[items[0]][1] == ["B"]
    assert held[items[3]][1] == "sju"
    assert e2e.db.flagged(attempt) == {items[0]}


def test_offline_banner_goes_when_the_network_returns_with_nothing_to_send(e2e, open_test):
    page, attempt = open_test(4)
    banner = page.locator("#exam-offline")
    expect(banner).to_be_hidden()
    assert page.evaluate("window.ppExam.pending().length") == 0
    # given: the network is cut while the student reads (nothing typed, nothing pending)
    page.context.set_offline(True)
    expect(banner).to_be_visible(timeout=5_000)
    page.wait_for_timeout(1_000)
    # when: it returns
    page.context.set_offline(False)
    # then: the banner goes by itself (a state poll or the presence socket), nothing to send
    expect(banner).to_be_hidden(timeout=15_000)
    assert page.evaluate("window.ppExam.pending().length") == 0
    assert e2e.db.attempt_status(attempt) == "working"


def test_an_old_devices_buffer_does_not_overwrite_answers_given_on_the_new_device(
    e2e, chromium, e2e_server
):
    items = _items(e2e)
    text, essay = items[3], items[4]
    student = e2e.data["sittings"]["client"]["students"][5]
    old_ctx, new_ctx = browser_context(chromium), browser_context(chromium)
    try:
        old = old_ctx.new_page()
        student_login_page(old, e2e_server.base_url, student, e2e.data["day_password"])
        old.wait_for_url("**/student/test/")
        old.click('.exam-nav [data-goto="3"]')
        old.fill(f'input[name="answer-{text}"]', "sju")
        wait_all_saved(old)
        attempt = attempt_of(old)
        # given: a save of the old device reaches the server, but its acknowledgement is lost
        old.click('.exam-nav [data-goto="4"]')
        old.route("**/saves", _delivered_but_unanswered)
        old.fill(f'textarea[name="answer-{essay}"]', "min egen text")
        _wait_held(e2e, old, attempt, essay, "min egen text")
        # ...then its network goes down while the student types on (many unsent edits)
        old_ctx.set_offline(True)
        old.unroute("**/saves")
        old.locator(f'textarea[name="answer-{essay}"]').press_sequentially(" och mer", delay=10)
        old.click('.exam-nav [data-goto="3"]')
        old.locator(f'input[name="answer-{text}"]').press_sequentially(" och lite till", delay=10)
        old.wait_for_function("() => window.ppExam.pending().length === 2")
        # when: the student continues on a new device and answers the text item there
        new = new_ctx.new_page()
        student_login_page(new, e2e_server.base_url, student, e2e.data["day_password"])
        new.wait_for_url("**/student/test/")
        new.click('.exam-nav [data-goto="3"]')
        expect(new.locator(f'input[name="answer-{text}"]')).to_have_value("sju")
        new.fill(f'input[name="answer-{text}"]', "sju (ny enhet)")
        wait_all_saved(new)
        new_ctx.close()
        # ...and later logs in on the old device again
        old_ctx.set_offline(False)
        student_login_page(old, e2e_server.base_url, student, e2e.data["day_password"])
        old.wait_for_url("**/student/test/")
        wait_all_saved(old)
        # then: the newer answer from the new device stands, on the server and on the old device
        assert e2e.db.responses(attempt)[text][1] == "sju (ny enhet)"
        old.click('.exam-nav [data-goto="3"]')
        expect(old.locator(f'input[name="answer-{text}"]')).to_have_value("sju (ny enhet)")
        # and the old device's own unacknowledged essay save was its own: its later edit is kept
        expect(old.locator(f'textarea[name="answer-{essay}"]')).to_have_value(
            "min egen text och mer"
        )
        assert e2e.db.responses(attempt)[essay][1] == "min egen text och mer"
    finally:
        old_ctx.close()


def _delivered_but_unanswered(route) -> None:
    """The save reaches the server, but the answer never reaches the page."""
    route.fetch()
    route.abort()


def _wait_held(e2e, page: Page, attempt: str, item: str, content: str) -> None:
    for _ in range(200):  # route handlers run only while Playwright waits
        if e2e.db.responses(attempt).get(item, (0, None))[1] == content:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the server never held {content!r}")


def test_a_timed_out_test_reopened_by_the_proctor_comes_back_by_itself(e2e, e2e_server, open_test):
    items = _items(e2e)
    page, attempt = open_test(6)
    page.click('.exam-nav [data-goto="3"]')
    page.fill(f'input[name="answer-{items[3]}"]', "sju")
    wait_all_saved(page)
    # given: the time ran out and the sweeper submitted the test (deadline + grace passed)
    now = datetime.datetime.now(datetime.UTC)
    e2e.db.deadline_set(attempt, now - datetime.timedelta(seconds=300))
    page.wait_for_url("**/student/done/", timeout=20_000)
    assert e2e.db.attempt_status(attempt) == "submitted"
    # when: the proctor reopens it with 5 minutes
    proctor = staff_client(
        e2e_server.base_url, e2e.data["proctor"]["username"], e2e.data["proctor"]["password"]
    )
    sitting = e2e.data["sittings"]["client"]["id"]
    response = proctor.post(
        f"/proctor/sittings/{sitting}/actions/reopen/",
        data={"attempt": attempt, "reason": "Strömavbrott", "minutes": "5"},
        headers={"X-CSRFToken": proctor.cookies["csrftoken"]},
    )
    assert response.status_code == 200, response.text
    # then: the student's page goes back to the test without a reload by hand, and says why
    expect(page.locator("#exam-reopened")).to_be_visible(timeout=15_000)
    page.wait_for_function("() => window.ppExam !== undefined")
    minutes = int(page.locator("#exam-timer").text_content().split(":")[0])
    assert 4 <= minutes <= 5
    page.click('.exam-nav [data-goto="3"]')
    page.fill(f'input[name="answer-{items[3]}"]', "sju, efter omöppning")
    wait_all_saved(page)
    assert e2e.db.attempt_status(attempt) == "working"
    assert e2e.db.responses(attempt)[items[3]][1] == "sju, efter omöppning"
