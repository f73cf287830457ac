"""The exam day in a real browser: listening parts, text to speech, and every demo role's menu.

- A sound plays within the item's limit (the player counts down), keeps playing when the network
  goes (it was loaded with the page), and a play beyond the limit is refused by the server.
- Text to speech is offered only to the student whose adjustment gives it, and reads a Swedish
  item with a Swedish voice while the interface speaks English.
- The service-status page updates itself without a meta refresh, and "Stop updating" stops it.
- Each demo user (`manage.py seed_demo`, on a database and server of its own) walks every entry
  of their own main menu without a 4xx.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.harness import (
    PYTHON,
    ROOT,
    Database,
    ServerProcess,
    browser_context,
    manage,
    run_env,
    student_login_page,
)

pytestmark = pytest.mark.browser

# Records what the page asks the speech synthesis to say, and in which language, instead of
# speaking (a headless browser has no voices).
SPEECH_RECORDER = """
window.ppUtterances = [];
Object.defineProperty(window, "speechSynthesis", { value: {
  speak: function (u) { window.ppUtterances.push({ lang: u.lang, text: u.text }); },
  cancel: function () {},
  getVoices: function () {
    return [{ lang: "en-GB", name: "English" }, { lang: "sv-SE", name: "Svenska" }];
  }
}});
"""


@pytest.fixture(scope="module")
def examday(e2e):
    done = subprocess.run(
        [PYTHON, "-m", "tests.e2e.seed_examday"],
        cwd=ROOT,
        env=e2e.env(),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise RuntimeError(f"seeding failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def context(chromium):
    context = browser_context(chromium)
    yield context
    context.close()


def _open_test(page: Page, base: str, student: dict, day_password: str) -> None:
    student_login_page(page, base, student, day_password)
    page.wait_for_url(re.compile(r"/student/(wait|test)/$"))


def test_a_sound_plays_within_its_limit_and_is_refused_beyond_it(examday, e2e_server, context):
    page = context.new_page()
    base = e2e_server.base_url
    _open_test(page, base, examday["listener"], examday["day_password"])

    # the headphone check comes first: the test does not open without it
    page.wait_for_url("**/student/wait/")
    expect(page.locator("#headphone-check")).to_be_visible()
    expect(page.locator("#headphone-ok")).to_be_disabled()
    page.click("#headphone-play")
    page.click("#headphone-ok")
    page.wait_for_url("**/student/test/")

    player = page.locator(".audio-player")
    play = player.locator("button")
    expect(player).to_have_attribute("data-state", "ready")  # loaded with the page
    expect(player.locator(".audio-player__left")).to_have_text("Plays left: 2")

    play.click()
    expect(player.locator(".audio-player__left")).to_have_text("Plays left: 1")
    # the network goes while the sound plays: it plays to the end all the same
    context.set_offline(True)
    expect(player).to_have_attribute("data-state", "ready", timeout=10_000)
    assert page.evaluate("document.querySelector('.exam-item audio').currentTime") > 0.5
    context.set_offline(False)

    play.click()
    expect(player.locator(".audio-player__left")).to_have_text("Plays left: 0")
    expect(player).to_have_attribute("data-state", "used", timeout=10_000)
    expect(play).to_be_disabled()

    # a third play asked for by hand is refused by the server, even after a reload
    page.reload()
    expect(page.locator(".audio-player")).to_have_attribute("data-state", "used")
    answer = page.evaluate(
        """async (item) => {
          const config = JSON.parse(document.getElementById('exam-config').textContent);
          const token = document.cookie.match(/csrftoken=([^;]+)/)[1];
          const url = config.playUrl.replace('00000000-0000-0000-0000-000000000000', item);
          const r = await fetch(url, { method: 'POST', headers: { 'X-CSRFToken': token } });
          return [r.status, (await r.json()).error];
        }""",
        examday["sound_item"],
    )
    assert answer == [409, "no_plays_left"]


def test_text_to_speech_is_offered_only_with_the_adjustment(examday, e2e_server, chromium):
    base = e2e_server.base_url
    with_speech = browser_context(chromium)
    with_speech.add_init_script(SPEECH_RECORDER)
    page = with_speech.new_page()
    _open_test(page, base, examday["with_speech"], examday["day_password"])
    page.click("#headphone-play")
    page.click("#headphone-ok")
    page.wait_for_url("**/student/test/")

    expect(page.locator('[data-tool="text_to_speech"]')).to_be_visible()
    page.click('[data-tool="text_to_speech"]')
    spoken = page.evaluate("window.ppUtterances")
    assert spoken and {u["lang"] for u in spoken} == {"sv"}  # the interface is English
    assert "Lyssna på ljudet" in spoken[0]["text"]
    with_speech.close()

    without = browser_context(chromium)
    page = without.new_page()
    _open_test(page, base, examday["without_speech"], examday["day_password"])
    page.click("#headphone-play")
    page.click("#headphone-ok")
    page.wait_for_url("**/student/test/")
    expect(page.locator("#exam-form")).to_be_visible()
    assert page.locator('[data-tool="text_to_speech"]').count() == 0
    without.close()


def test_the_proctor_sees_read_aloud_on_the_students_row(examday, e2e_server, context):
    page = context.new_page()
    base = e2e_server.base_url
    page.goto(base + "/login/")
    page.fill("#id_username", examday["proctor"]["username"])
    page.fill("#id_password", examday["proctor"]["password"])
    page.click("main button[type=submit]")
    page.goto(f"{base}/proctor/sittings/{examday['sitting']}/")
    row = page.locator("tr", has_text=examday["with_speech"]["name"])
    expect(row.locator(".adjustments")).to_contain_text("Read aloud")
    expect(row.locator(".adjustments")).to_contain_text("Text to speech")
    expect(row.locator(".student-username")).to_have_text(examday["with_speech"]["username"])


DEMO_USERS = [
    "rektor",
    "skoladmin",
    "provadmin",
    "bedledare",
    "provledare",
    "bedomare",
    "larare",
    "larare2",
    "ovrig",
    "rektor.bjork",
    "larare.bjork",
    "rektor.fjell",
    "larer.fjell",
    "huvudman",
    "operator",
]


@pytest.fixture(scope="module")
def demo_server(e2e, tmp_path_factory):
    """`make demo`'s data on a database and server of their own: seed_demo gives every student
    of today's sittings a new password, which must not touch the other tests' students."""
    db = Database.for_run(os.environ.get("DATABASE_URL", ""), tmp_path_factory.mktemp("demo"))
    if db.engine == "postgres":
        name = db.name + "_demo"
        db = Database(
            url=db.url.rsplit("/", 1)[0] + f"/{name}",
            engine="postgres",
            admin_url=db.admin_url,
            name=name,
        )
    db.create()
    env = run_env(db.url, redis_url=e2e.redis_url)
    manage(env, "migrate", "--noinput")
    assert "operator" in manage(env, "seed_demo")
    server = ServerProcess(env=env, name="demo").start()
    yield server
    server.stop()
    db.drop()


def test_every_demo_role_walks_its_own_menu_without_a_4xx(demo_server, chromium):
    base = demo_server.base_url
    walked = {}
    for username in DEMO_USERS:
        context = browser_context(chromium)
        page = context.new_page()
        page.goto(base + "/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", "demo-provplattform")
        page.click("main button[type=submit]")
        page.wait_for_load_state()
        assert "/login/" not in page.url, f"{username} could not log in"
        links = page.eval_on_selector_all(
            "nav.main-nav a", "links => links.map(a => [a.textContent.trim(), a.href])"
        )
        assert links, f"{username} has an empty menu"
        for label, href in links:
            response = page.goto(href)
            assert response.status < 400, f"{username}: {label} ({href}) answered {response.status}"
        walked[username] = [label for label, _href in links]
        context.close()
    assert "Transfers" in walked["huvudman"] and "API tokens" in walked["huvudman"]
    assert "Test definitions" in walked["operator"]
    assert walked["ovrig"] == ["Overview"]
    assert all(re.match(r"^[A-Z]", label) for labels in walked.values() for label in labels)


def test_tools_work_and_a_change_of_language_keeps_the_item_the_student_is_on(
    examday, e2e_server, context
):
    page = context.new_page()
    _open_test(page, e2e_server.base_url, examday["without_speech"], examday["day_password"])
    if "/student/wait/" in page.url:
        page.click("#headphone-play")
        page.click("#headphone-ok")
    page.wait_for_url("**/student/test/")
    # no staff header: nothing leads a student to the staff pages mid-test
    assert page.locator("a.brand").count() == 0 and page.locator("nav.main-nav").count() == 0
    page.click('.exam-nav [data-goto="1"]')
    expect(page.locator('.exam-item[data-index="1"]')).to_be_visible()

    # the subtest's own tools work for everyone
    page.click('[data-tool="calculator"]')
    page.fill("#calculator-input", "2,5 × (3 + 1)")
    page.press("#calculator-input", "Enter")
    expect(page.locator("#calculator-result")).to_have_text("10")
    page.fill("#calculator-input", "2 +* 3")
    page.press("#calculator-input", "Enter")
    expect(page.locator("#calculator-result")).to_have_text("Cannot calculate that.")
    page.keyboard.press("Escape")
    answer = page.locator('.exam-item[data-index="1"] textarea')
    assert answer.get_attribute("spellcheck") == "false"
    page.click('[data-tool="spell_check"]')
    assert answer.evaluate("el => el.spellcheck") is True
    page.click('[data-tool="enlarged_text"]')
    expect(page.locator("#exam")).to_have_class(re.compile("exam--enlarged"))

    page.select_option("#language-select", "sv")
    page.click("#student-language-form button[type=submit]")
    page.wait_for_url("**/student/test/")

    expect(page.locator("html")).to_have_attribute("lang", "sv")
    expect(page.locator('.exam-item[data-index="1"]')).to_be_visible()
    expect(page.locator('.exam-item[data-index="0"]')).to_be_hidden()
    expect(page.locator("#exam")).to_have_class(re.compile("exam--enlarged"))  # remembered


def test_the_status_page_updates_itself_and_can_be_stopped(e2e_server, context):
    page = context.new_page()
    page.clock.install()
    page.goto(e2e_server.base_url + "/status/")
    assert page.locator('meta[http-equiv="refresh"]').count() == 0
    toggle = page.locator("#status-toggle")
    expect(toggle).to_have_text("Stop updating")
    with page.expect_response(lambda r: r.url.endswith("/status/")):
        page.clock.run_for(31_000)
    expect(page.locator("#status-updated")).to_contain_text("Updated")
    toggle.click()
    expect(toggle).to_have_text("Update again")
    expect(page.locator("#status-updated")).to_have_text("Updates stopped.")
