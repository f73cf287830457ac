import pytest

from tests.world import build_world


@pytest.fixture(autouse=True)
def english_messages(request):
    """Assertions read the English source strings; the interface itself defaults to Swedish.

    A test marked `configured_language` keeps the language the settings give, to prove that
    default (see tests/provplattform/test_translations.py).
    """
    if request.node.get_closest_marker("configured_language"):
        yield
        return
    settings = request.getfixturevalue("settings")
    settings.LANGUAGE_CODE = "en"
    yield


@pytest.fixture
def world(db):
    return build_world()
