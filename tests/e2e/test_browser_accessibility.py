"""Accessibility of every page a role reaches, in Swedish and in English: axe-core (the copy
shipped inside the axe-playwright-python package, never fetched from a CDN) runs in Debian's
Chromium on each page the walk finds by following the links of the pages before it.

Serious and critical findings fail the test; the others are listed in the output (`-s`), so a
new page is checked the day a menu or a page links to it.
"""

from __future__ import annotations

from collections import deque
from urllib.parse import urljoin, urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

from tests.e2e.harness import browser_context

pytestmark = pytest.mark.browser

FAILING = {"serious", "critical"}
MAX_PAGES = 60
# Links the walk does not follow: leaving, files to download, Django's admin.
SKIP = ("/logout", "/admin/", "/i18n/", ".yaml", ".xlsx", "/static/", "/media/", "/api/")
LANGUAGES = ("sv", "en")


def _login(page: Page, base_url: str, who: dict) -> None:
    page.goto(base_url + "/login/")
    page.fill("input[name=username]", who["username"])
    page.fill("input[name=password]", who["password"])
    page.click("main button[type=submit]")
    page.wait_for_load_state()


def _links(page: Page, base_url: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    found = []
    for href in hrefs:
        if not href or href.startswith(("#", "mailto:", "javascript:")):
            continue
        url = urljoin(page.url, href)
        parts = urlsplit(url)
        if url.startswith(base_url) and not any(s in parts.path for s in SKIP):
            found.append(parts._replace(fragment="").geturl())
    return found


def _walk(page: Page, base_url: str, start: str) -> list[tuple[str, list[dict]]]:
    """Every page reachable by links from `start`, with axe's violations on each."""
    axe = Axe()
    seen, queue, results = {start}, deque([start]), []
    while queue and len(results) < MAX_PAGES:
        url = queue.popleft()
        response = page.goto(url)
        if (
            response is None
            or not response.ok
            or "text/html" not in response.headers.get("content-type", "")
        ):
            continue
        page.wait_for_load_state()
        results.append((url, axe.run(page).response["violations"]))
        for link in _links(page, base_url):
            if link not in seen:
                seen.add(link)
                queue.append(link)
    return results


def _report(role: str, language: str, results) -> list[str]:
    failing = []
    for url, violations in results:
        for violation in violations:
            line = (
                f"[{role}/{language}] {violation['impact']}: {violation['id']} "
                f"({len(violation['nodes'])}x) on {url}: {violation['help']}"
            )
            print(line)
            if violation["impact"] in FAILING:
                failing.append(line)
    return failing


def _walks(e2e) -> dict[str, dict | None]:
    return {"anonymous": None, "head teacher": e2e.data["head"], "proctor": e2e.data["proctor"]}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("role", ["anonymous", "head teacher", "proctor"])
def test_no_serious_accessibility_finding_on_any_page_a_role_reaches(
    chromium, e2e, e2e_server, role, language
):
    base_url = e2e_server.base_url
    context = browser_context(chromium, locale=language)
    context.add_cookies([{"name": "django_language", "value": language, "url": base_url}])
    page = context.new_page()
    try:
        who = _walks(e2e)[role]
        if who is not None:
            _login(page, base_url, who)
        start = page.url if who is not None else base_url + "/"
        results = _walk(page, base_url, start)
    finally:
        context.close()
    assert len(results) >= (1 if who is None else 3), [url for url, _v in results]
    print(f"[{role}/{language}] axe checked {len(results)} pages")
    failing = _report(role, language, results)
    assert not failing, "\n".join(failing)
