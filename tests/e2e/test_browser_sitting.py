"""The live sitting in a real browser: Chromium (Debian's) through Playwright, the real server.

A proctor (browser context A) watches the room while a student (context B) answers, loses the
network for 30 s while still typing, and gets it back: every answer reaches the server, and the
proctor's page shows "connection lost" and "connection restored" within the promised bounds.
A second student moves to a new browser context mid-test and carries on there.

Chromium's offline emulation does not close an open WebSocket (its frames just stop), so the
loss is detected the way a pulled cable is: as a silent drop, within heartbeat + grace.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import (
    GRACE_S,
    HEARTBEAT_S,
    RESULTS,
    attempt_of,
    browser_context,
    student_login,
    student_login_page,
    wait_all_saved,
)

pytestmark = pytest.mark.browser

OUTAGE_S = 30
# The sweeper runs once a second and the proctor's socket delivers at once: a silent drop is
# on the proctor's screen within heartbeat + grace + 1 s of the cut.
LOST_BOUND_S = HEARTBEAT_S + GRACE_S + 1
# After the network returns the exam client's socket reconnects and the notice is pushed.
RESTORED_BOUND_S = 5

# Records every notice the proctor page adds, with the browser's clock (the same machine clock
# as time.time() here), so the bounds are measured on what the proctor saw.
NOTICE_RECORDER = """
window.__notices = [];
document.addEventListener("DOMContentLoaded", function () {
  var list = document.getElementById("notice-list");
  if (!list) { return; }
  new MutationObserver(function (mutations) {
    mutations.forEach(function (m) {
      m.addedNodes.forEach(function (node) {
        if (node.nodeType === 1 && node.tagName === "LI" && !node.hasAttribute("data-empty")) {
          window.__notices.push({at: Date.now(), kind: node.className, text: node.textContent});
        }
      });
    });
  }).observe(list, {childList: true});
});
"""


def _notices(proctor: Page) -> list[dict]:
    return proctor.evaluate("window.__notices")


def _first(notices: list[dict], kind: str, name: str) -> dict | None:
    return next((n for n in notices if f"notice--{kind}" in n["kind"] and name in n["text"]), None)


def _wait_notice(proctor: Page, kind: str, name: str, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = _first(_notices(proctor), kind, name)
        if found:
            return found
        proctor.wait_for_timeout(200)
    raise AssertionError(f"the proctor never saw {kind} for {name}: {_notices(proctor)}")


def _release(proctor: Page, name: str) -> None:
    with proctor.expect_response(lambda r: "/actions/release/" in r.url) as response:
        proctor.click(f'#room-rows tr:has(th:text-is("{name}")) button[data-action="release"]')
    assert response.value.ok


@pytest.fixture
def proctor_page(chromium, e2e, e2e_server):
    context = browser_context(chromium)
    context.add_init_script(NOTICE_RECORDER)
    page = context.new_page()
    page.goto(e2e_server.base_url + "/login/")
    page.fill("input[name=username]", e2e.data["proctor"]["username"])
    page.fill("input[name=password]", e2e.data["proctor"]["password"])
    page.click("main button[type=submit]")
    page.wait_for_load_state()
    sitting = e2e.data["sittings"]["browser"]
    page.goto(f"{e2e_server.base_url}/proctor/sittings/{sitting['id']}/")
    expect(page.locator("#live-state")).to_have_attribute("data-online", "true")
    expect(page.locator(".day-password")).to_contain_text(e2e.data["day_password"][:4])
    yield page
    context.close()


def test_student_keeps_working_through_a_network_cut_and_the_proctor_sees_it(
    chromium, e2e, e2e_server, proctor_page
):
    base, data = e2e_server.base_url, e2e.data
    items = [item["id"] for item in data["items"]]
    alva = data["sittings"]["browser"]["students"][0]
    context = browser_context(chromium)
    page = context.new_page()

    # given: Alva logs in, waits, is released by the proctor and answers
    student_login_page(page, base, alva, data["day_password"])
    page.wait_for_url("**/student/wait/")
    _release(proctor_page, alva["name"])
    page.wait_for_url("**/student/test/")
    attempt = attempt_of(page)
    page.check(f'input[name="answer-{items[0]}"][value="B"]')
    page.click("#exam-next")
    essay = page.locator(f'textarea[name="answer-{items[1]}"]')
    essay.fill("Först adderar jag sju och sju.")
    page.click("#exam-next")
    page.check(f'input[name="answer-{items[2]}"][value="A"]')
    wait_all_saved(page)
    expect(page.locator("#exam-saved")).to_contain_text("Saved")
    page.wait_for_timeout(HEARTBEAT_S * 1000)  # a heartbeat has been seen since the socket opened

    # when: the network goes for 30 s while she keeps typing and changes a choice
    cut = time.time()
    context.set_offline(True)
    expect(page.locator("#exam-offline")).to_be_visible(timeout=3_000)
    page.screenshot(path=str(RESULTS / "exam-client-offline.png"))
    page.click('.exam-nav [data-goto="1"]')
    essay.press_sequentially(" Det blir fjorton.", delay=40)
    page.wait_for_timeout(8_000)
    page.click('.exam-nav [data-goto="0"]')
    page.check(f'input[name="answer-{items[0]}"][value="C"]')
    page.click('.exam-nav [data-goto="2"]')
    page.check(f'input[name="answer-{items[2]}"][value="C"]')
    page.wait_for_timeout(8_000)
    page.click('.exam-nav [data-goto="1"]')
    essay.press_sequentially(" Jag kontrollerade med subtraktion.", delay=40)
    lost = _wait_notice(proctor_page, "connection_lost", alva["name"], LOST_BOUND_S + 5)
    expect(
        proctor_page.locator(f'#room-rows tr:has(th:text-is("{alva["name"]}"))')
    ).to_have_attribute("data-status", "lost")
    final_essay = essay.input_value()
    assert page.evaluate("window.ppExam.pending().length") > 0  # buffered, not yet delivered
    page.wait_for_timeout(max(0, (cut + OUTAGE_S - time.time()) * 1000))
    back = time.time()
    context.set_offline(False)

    # then: everything buffered reaches the server and the banner goes
    wait_all_saved(page)
    expect(page.locator("#exam-offline")).to_be_hidden()
    restored = _wait_notice(
        proctor_page, "connection_restored", alva["name"], RESTORED_BOUND_S + 10
    )
    page.screenshot(path=str(RESULTS / "exam-client.png"))
    held = e2e.db.responses(attempt)
    assert held[items[0]][1] == ["C"]
    assert held[items[1]][1] == final_essay
    assert final_essay.endswith("Jag kontrollerade med subtraktion.")
    assert held[items[2]][1] == ["A", "C"]
    # ...and the proctor saw the loss and the return within the bounds
    lost_after = lost["at"] / 1000 - cut
    restored_after = restored["at"] / 1000 - back
    print(f"lost shown {lost_after:.1f} s after the cut, restored {restored_after:.1f} s after")
    assert 0 < lost_after <= LOST_BOUND_S
    assert 0 < restored_after <= RESTORED_BOUND_S
    expect(
        proctor_page.locator(f'#room-rows tr:has(th:text-is("{alva["name"]}"))')
    ).to_have_attribute("data-status", "working")
    # the notices are stored: a reloaded proctor page still shows them
    proctor_page.reload()
    history = proctor_page.locator("#notice-list")
    expect(history.locator("li.notice--connection_lost")).to_contain_text(alva["name"])
    expect(history.locator("li.notice--connection_restored")).to_contain_text(alva["name"])
    context.close()


def test_student_switches_to_another_device_and_continues(chromium, e2e, e2e_server, proctor_page):
    base, data = e2e_server.base_url, e2e.data
    items = [item["id"] for item in data["items"]]
    bo = data["sittings"]["browser"]["students"][1]
    first = browser_context(chromium)
    old = first.new_page()

    # given: Bo answers two items on his first device
    student_login_page(old, base, bo, data["day_password"])
    old.wait_for_url("**/student/wait/")
    _release(proctor_page, bo["name"])
    old.wait_for_url("**/student/test/")
    attempt = attempt_of(old)
    old.check(f'input[name="answer-{items[0]}"][value="A"]')
    old.click('.exam-nav [data-goto="3"]')
    old.fill(f'input[name="answer-{items[3]}"]', "sju")
    wait_all_saved(old)

    # when: the device breaks; he logs in on another one with the day password
    second = browser_context(chromium)
    new = second.new_page()
    student_login_page(new, base, bo, data["day_password"])
    new.wait_for_url("**/student/test/")

    # then: his answers are there, the old device is told, the proctor is told
    assert attempt_of(new) == attempt
    expect(new.locator(f'input[name="answer-{items[0]}"][value="A"]')).to_be_checked()
    expect(new.locator(f'input[name="answer-{items[3]}"]')).to_have_value("sju")
    expect(old.locator("#exam-refused")).to_be_visible(timeout=15_000)
    expect(old.locator("#exam-refused")).to_contain_text("another device")
    _wait_notice(proctor_page, "device_switched", bo["name"], 10)
    # ...and he continues on the new device
    new.click('.exam-nav [data-goto="4"]')
    new.fill(f'textarea[name="answer-{items[4]}"]', "Tre sidor och tre hörn.")
    wait_all_saved(new)
    held = e2e.db.responses(attempt)
    assert held[items[0]][1] == ["A"]
    assert held[items[3]][1] == "sju"
    assert held[items[4]][1] == "Tre sidor och tre hörn."
    proctor_page.screenshot(path=str(RESULTS / "proctor-room.png"), full_page=True)
    first.close()
    second.close()


def test_proctor_catches_up_after_a_socket_gap_and_adds_time_through_the_form(
    chromium, e2e, e2e_server
):
    data = e2e.data
    sitting = data["sittings"]["client"]
    jon = sitting["students"][7]
    student_login(e2e_server.base_url, jon, data["day_password"])  # working
    blocked = []  # while non-empty, the room's socket is refused (a gap in the connection)
    sockets = []

    def room_socket(ws):
        if blocked:
            ws.close()
        else:
            ws.connect_to_server()
            sockets.append(ws)

    context = browser_context(chromium)
    context.add_init_script(NOTICE_RECORDER)
    page = context.new_page()
    try:
        page.route_web_socket("**/ws/sitting/**", room_socket)
        page.goto(e2e_server.base_url + "/login/")
        page.fill("input[name=username]", data["proctor"]["username"])
        page.fill("input[name=password]", data["proctor"]["password"])
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{e2e_server.base_url}/proctor/sittings/{sitting['id']}/")
        live = page.locator("#live-state")
        expect(live).to_have_attribute("data-online", "true")
        row = page.locator(f'#room-rows tr:has(th:text-is("{jon["name"]}"))')
        expect(row).to_have_attribute("data-attempt-status", "working")

        # given: the room's socket goes away, and meanwhile the student switches device
        blocked.append(True)
        sockets[-1].close()
        expect(live).to_have_attribute("data-online", "false", timeout=5_000)
        student_login(e2e_server.base_url, jon, data["day_password"])
        page.wait_for_timeout(1_000)
        assert _first(_notices(page), "device_switched", jon["name"]) is None
        # when: the socket comes back
        blocked.clear()
        expect(live).to_have_attribute("data-online", "true", timeout=20_000)
        # then: the notice missed meanwhile shows without a reload
        _wait_notice(page, "device_switched", jon["name"], 10)

        # the add-time form: keyboard usable, Escape cancels, focus returns to the row
        add = row.locator('button[data-action="add_time"]')
        add.click()
        dialog = page.locator("#action-dialog")
        expect(dialog).to_be_visible()
        expect(page.locator("#action-minutes")).to_be_focused()
        page.keyboard.press("Escape")
        expect(dialog).to_be_hidden()
        expect(add).to_be_focused()
        page.keyboard.press("Enter")
        expect(dialog).to_be_visible()
        page.fill("#action-minutes", "7")
        page.fill("#action-reason", "Brandövning")
        with page.expect_response(lambda r: "/actions/add_time/" in r.url) as response:
            page.keyboard.press("Enter")
        assert response.value.ok
        expect(dialog).to_be_hidden()
        added = e2e.db.query(
            "SELECT added_seconds FROM delivery_attempt a JOIN schools_person p "
            "ON p.id = a.person_id WHERE p.public_id = %s",
            (e2e.db._uuid(jon["person"]),),
        )
        assert added == [(420,)]
    finally:
        context.close()


def test_it_page_catches_up_after_a_socket_gap(chromium, e2e, e2e_server):
    data = e2e.data
    jon = data["sittings"]["client"]["students"][7]
    blocked, sockets = [], []

    def it_socket(ws):
        if blocked:
            ws.close()
        else:
            ws.connect_to_server()
            sockets.append(ws)

    student_login(e2e_server.base_url, jon, data["day_password"])  # he holds a device now
    context = browser_context(chromium)
    page = context.new_page()
    try:
        page.route_web_socket("**/ws/it/**", it_socket)
        page.goto(e2e_server.base_url + "/login/")
        page.fill("input[name=username]", data["proctor"]["username"])
        page.fill("input[name=password]", data["proctor"]["password"])
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        page.goto(f"{e2e_server.base_url}/it/{data['unit']}/")
        live = page.locator("#live-state")
        expect(live).to_have_attribute("data-online", "true")
        switched = page.locator("#notice-list li.notice--device_switched", has_text=jon["name"])
        before = switched.count()
        # given: the page's socket is away while a student switches device
        blocked.append(True)
        sockets[-1].close()
        expect(live).to_have_attribute("data-online", "false", timeout=5_000)
        student_login(e2e_server.base_url, jon, data["day_password"])  # one switch
        page.wait_for_timeout(500)
        assert switched.count() == before
        # when: the socket comes back, then: the notice missed meanwhile shows without a reload
        blocked.clear()
        expect(live).to_have_attribute("data-online", "true", timeout=20_000)
        expect(switched).to_have_count(before + 1, timeout=10_000)
    finally:
        context.close()
