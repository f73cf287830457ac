"""The assessor's desk in a real browser: an assessor grades five responses with the keyboard
only, in anonymous mode (no student's name on the page), each saved without a page reload."""

from __future__ import annotations

import json
import subprocess

import pytest
from playwright.sync_api import expect

from tests.e2e.harness import PYTHON, ROOT, browser_context, staff_client

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def desk(e2e):
    done = subprocess.run(
        [PYTHON, "-m", "tests.e2e.desk_seed"], cwd=ROOT, env=e2e.env(), capture_output=True,
        text=True,
    )  # fmt: skip
    if done.returncode:
        raise RuntimeError(f"seeding the desk failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_assessor_grades_five_responses_with_the_keyboard_in_anonymous_mode(
    chromium, e2e_server, desk
):
    base = e2e_server.base_url
    context = browser_context(chromium)
    page = context.new_page()
    # log in with the keyboard
    page.goto(base + "/login/")
    page.focus("input[name=username]")
    page.keyboard.type(desk["assessor"]["username"])
    page.keyboard.press("Tab")
    page.keyboard.type(desk["assessor"]["password"])
    with page.expect_navigation():
        page.keyboard.press("Enter")
    # the queue: anonymous by default, five to assess
    page.goto(f"{base}/units/{desk['unit']}/grading/desk/")
    expect(page.locator("#desk-progress")).to_contain_text("0 of 5")
    page.focus("#desk-start")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    reloads = []
    for number in range(5):
        expect(page.locator("#desk-progress")).to_contain_text(f"response {number + 1} of 5")
        body = page.locator("main").inner_text()
        assert not [name for name in desk["students"] if name in body], "a name is shown"
        if number == 0:
            expect(page.locator("#desk-flag-tag")).to_be_hidden()
            page.keyboard.press("?")
            expect(page.locator("#desk-help")).to_be_visible()
            page.keyboard.press("Escape")
            expect(page.locator("#desk-help")).to_be_hidden()
        page.evaluate("window.__sameDocument = true")
        page.keyboard.press(str(number % (desk["max_points"] + 1)))
        page.keyboard.press("Enter")
        expect(page.locator("#desk-status")).to_have_text("Saved.")
        # saved without a reload: the same document is still here
        reloads.append(page.evaluate("window.__sameDocument === true"))
        expect(page.locator("#desk-progress")).to_contain_text(f"{number + 1} of 5 assessed")
        if number < 4:
            page.keyboard.press("j")
            page.wait_for_function("window.__sameDocument === undefined")
    assert reloads == [True] * 5
    context.close()
    # every score reached the server
    client = staff_client(base, desk["assessor"]["username"], desk["assessor"]["password"])
    scores = client.get(f"/api/v1/units/{desk['unit']}/desk/scores/").json()
    assert sorted(s["points"] for s in scores) == sorted(
        n % (desk["max_points"] + 1) for n in range(5)
    )
    assert all(s["version"] == 1 for s in scores)


def test_the_projector_window_follows_the_response_the_assessor_opens(chromium, e2e_server, desk):
    base = e2e_server.base_url
    user = desk["assessor"]
    client = staff_client(base, user["username"], user["password"])
    ids = [s["id"] for s in client.get(f"/api/v1/units/{desk['unit']}/desk/scores/").json()]
    context = browser_context(chromium)
    page = context.new_page()
    page.goto(base + "/login/")
    page.fill("input[name=username]", user["username"])
    page.fill("input[name=password]", user["password"])
    with page.expect_navigation():
        page.click("main button[type=submit]")
    desk_url = f"{base}/units/{desk['unit']}/grading/desk/"
    projector = context.new_page()
    projector.goto(f"{desk_url}{ids[0]}/projector/")
    expect(projector.locator(".projector__who")).to_contain_text("1 / 5")
    # when the assessor opens the third response at the desk
    page.goto(f"{desk_url}{ids[2]}/")
    # then the projector shows it too, in large type and without names
    projector.wait_for_url(f"**/{ids[2]}/projector/**")
    expect(projector.locator(".projector__who")).to_contain_text("3 / 5")
    assert not [n for n in desk["students"] if n in projector.locator("body").inner_text()]
    context.close()
