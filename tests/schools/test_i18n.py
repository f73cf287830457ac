import pytest

pytestmark = pytest.mark.django_db


@pytest.mark.configured_language
def test_login_page_speaks_swedish_by_default(client):
    page = client.get("/login/").content.decode()
    assert '<html lang="sv">' in page
    assert "Användarnamn" in page and "Lösenord" in page
    assert "Hoppa till innehållet" in page


def test_login_page_speaks_english_when_chosen(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    page = client.get("/login/").content.decode()
    assert '<html lang="en">' in page
    assert "Username" in page and "Skip to content" in page
    assert "Användarnamn" not in page


def test_login_page_speaks_norwegian_when_chosen(client):
    client.post("/i18n/setlang/", {"language": "nb", "next": "/login/"})
    page = client.get("/login/").content.decode()
    assert "Brukernavn" in page and "Passord" in page


@pytest.mark.configured_language
def test_refusal_message_is_in_the_chosen_language(client):
    sv = client.post("/login/", {"username": "nobody", "password": "x"}).content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    en = client.post("/login/", {"username": "nobody", "password": "x"}).content.decode()
    assert "Användarnamnet eller lösenordet är fel" in sv
    assert "The username or password is wrong" in en
