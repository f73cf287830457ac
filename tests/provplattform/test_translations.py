"""The sv and nb catalogues keep up with the code, and the committed .mo files with them.

`make messages` extracts the strings and compiles the catalogues. These tests fail when someone
marks a new string for translation without translating it, leaves a guess of makemessages marked
fuzzy, or edits a .po file without compiling it. makemessages runs on a copy of the sources and
catalogues in a temporary folder, so the repository's files are never touched.
"""

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("sv", "nb")
# The flags of `make messages`.
IGNORED = (".venv", "tests", "bench")
MAKEMESSAGES = [
    "makemessages",
    *(arg for code in LANGUAGES for arg in ("-l", code)),
    *(f"--ignore={pattern}" for pattern in IGNORED),
    "--no-location",
]
# Files the "django" domain of makemessages reads, and folders it never needs.
SOURCE_SUFFIXES = {".py", ".html", ".txt"}
SKIPPED_DIRS = {*IGNORED, "locale", "node_modules", "__pycache__", "test-results", "staticfiles"}


def _catalogue(root: Path, code: str, suffix: str) -> Path:
    return root / "locale" / code / "LC_MESSAGES" / f"django.{suffix}"


def _require(*tools: str) -> None:
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"GNU gettext is not installed (missing {', '.join(missing)})")


def _run(args: list[str], cwd: Path | None = None, env: dict[str, str] | None = None):
    result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"{' '.join(args)} failed:\n{result.stdout}{result.stderr}"
    return result


def _copy_sources(target: Path) -> None:
    """Copy what makemessages would read from the project, and the catalogues, to `target`."""
    for folder, dirs, files in os.walk(ROOT):
        dirs[:] = [name for name in dirs if not name.startswith(".") and name not in SKIPPED_DIRS]
        for name in files:
            source = Path(folder) / name
            if source.suffix in SOURCE_SUFFIXES:
                copy = target / source.relative_to(ROOT)
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(source, copy)
    shutil.copytree(ROOT / "locale", target / "locale")


def _snapshot() -> dict[str, bytes]:
    return {
        str(path.relative_to(ROOT)): path.read_bytes()
        for path in sorted((ROOT / "locale").rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Path:
    """A copy of the project on which makemessages has run; its catalogues hold every string."""
    _require("xgettext", "msgmerge", "msguniq", "msgattrib")
    copy = tmp_path_factory.mktemp("messages")
    _copy_sources(copy)
    before = _snapshot()
    # The copy's settings put LOCALE_PATHS inside the copy (BASE_DIR is where settings.py is).
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    env.update(PYTHONPATH=str(copy), LC_ALL="C", DJANGO_SETTINGS_MODULE="provplattform.settings")
    _run([sys.executable, "manage.py", *MAKEMESSAGES], cwd=copy, env=env)
    assert _snapshot() == before, "makemessages on the copy changed the repository's catalogues"
    return copy


@pytest.mark.parametrize("code", LANGUAGES)
def test_every_string_in_the_code_is_translated(extracted, code):
    po = _catalogue(extracted, code, "po")
    problems = {
        "fuzzy (check the guess, then remove the flag)": "--only-fuzzy",
        "untranslated": "--untranslated",
    }
    for what, selector in problems.items():
        listing = _run(["msgattrib", "--no-obsolete", "--no-wrap", selector, str(po)]).stdout
        assert listing == "", (
            f"locale/{code}/LC_MESSAGES/django.po lacks translations; run `make messages`, "
            f"translate these {what} entries, and run it again:\n{listing}"
        )


@pytest.mark.parametrize("code", LANGUAGES)
def test_the_committed_mo_file_matches_the_po_file(tmp_path, code):
    _require("msgfmt")
    po, committed = _catalogue(ROOT, code, "po"), _catalogue(ROOT, code, "mo")
    assert committed.exists(), f"{committed.relative_to(ROOT)} is missing; run `make messages`"
    fresh = tmp_path / "django.mo"
    # As compilemessages compiles: placeholders must agree between msgid and msgstr.
    _run(["msgfmt", "--check-format", "-o", str(fresh), str(po)], env={**os.environ, "LC_ALL": "C"})

    def messages(path: Path) -> dict:
        with path.open("rb") as handle:
            catalog = dict(gettext.GNUTranslations(handle)._catalog)
        catalog.pop("", None)  # the header: its dates change with every makemessages run
        return catalog

    expected, actual = messages(fresh), messages(committed)
    stale = sorted(
        str(key) for key in expected.keys() | actual.keys() if expected.get(key) != actual.get(key)
    )
    assert not stale, (
        f"{committed.relative_to(ROOT)} is out of date with django.po; run `make messages`. "
        f"Differs for: {stale[:10]}"
    )


SWEDISH = ("Logga in med användarnamnet och lösenordet från din huvudman.", "Dagslösenord")
NORWEGIAN = ("Logg inn med brukernavnet og passordet fra skoleeieren din.", "Dagspassord")
ENGLISH = ("Log in with the username and password from your school organiser.", "Day password")


def _login_pages(client, **headers) -> str:
    pages = []
    for name in ("login", "student-login"):
        response = client.get(reverse(name), **headers)
        assert response.status_code == 200
        pages.append(response.content.decode())
    return "\n".join(pages)


@pytest.mark.configured_language
def test_the_login_pages_speak_swedish_by_default(client):
    html = _login_pages(client)
    assert '<html lang="sv">' in html
    for text in SWEDISH:
        assert text in html
    for text in NORWEGIAN + ENGLISH:
        assert text not in html


def test_a_norwegian_browser_gets_the_login_pages_in_norwegian(client):
    html = _login_pages(client, HTTP_ACCEPT_LANGUAGE="nb-NO,nb;q=0.9,no;q=0.8,en;q=0.5")
    assert '<html lang="nb">' in html
    for text in NORWEGIAN:
        assert text in html
    for text in SWEDISH + ENGLISH:
        assert text not in html


def test_the_language_cookie_chooses_norwegian(client):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "nb"
    html = _login_pages(client, HTTP_ACCEPT_LANGUAGE="sv")
    assert '<html lang="nb">' in html
    for text in NORWEGIAN:
        assert text in html
