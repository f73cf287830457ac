"""Listening parts in a definition: a sound is one of the test's assets, with a play limit."""

from __future__ import annotations

import copy

import pytest

from exams.definitions import services
from exams.definitions.content import sanitise_html
from exams.definitions.format import export_yaml, load_file, parse_definition, read_text
from exams.models import ItemAsset
from tests.exams.test_definitions import TODAY, good, media, operator  # noqa: F401

WAV = b"RIFF$\x00\x00\x00WAVEfmt "


def _listening(**item_fields) -> dict:
    data = copy.deepcopy(good())
    item = data["subtests"][1]["items"][0]
    item["html"] = '<p>Lyssna.</p><audio src="audio/q1.wav"></audio>'
    item.update(item_fields)
    return data


def _problems(data, assets=("audio/q1.wav",)) -> dict[str, str]:
    _spec, problems = parse_definition(data, today=TODAY, asset_paths=set(assets))
    return {p.path: p.message for p in problems}


def test_a_sound_that_is_an_asset_with_a_play_limit_is_valid():
    assert _problems(_listening(audio_plays=2)) == {}


def test_a_sound_that_is_not_an_asset_is_refused():
    assert (
        "not one of the test's assets"
        in _problems(_listening(), assets=())["subtests[1].items[0].html"]
    )


def test_a_sound_of_another_type_is_refused():
    data = _listening()
    data["subtests"][1]["items"][0]["html"] = '<audio src="audio/q1.txt"></audio>'
    assert "subtests[1].items[0].html" in _problems(data, assets=("audio/q1.txt",))


@pytest.mark.parametrize("value", [0, -1, "two"])
def test_a_play_limit_is_a_whole_number_of_at_least_one(value):
    assert "subtests[1].items[0].audio_plays" in _problems(_listening(audio_plays=value))


def test_a_play_limit_needs_a_sound():
    data = copy.deepcopy(good())
    data["subtests"][1]["items"][0]["audio_plays"] = 2
    assert "subtests[1].items[0].audio_plays" in _problems(data, assets=())


def test_a_definition_file_with_a_sound_stores_it_and_keeps_the_limit(operator, tmp_path):  # noqa: F811
    import yaml

    data = _listening(audio_plays=2)
    data["assets"] = {"audio/q1.wav": "q1.wav"}
    (tmp_path / "q1.wav").write_bytes(WAV)
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(data, allow_unicode=True))
    spec, assets = load_file(tmp_path / "test.yaml", today=TODAY)

    test = services.test_create(actor=operator, spec=spec, assets=assets)

    asset = ItemAsset.objects.get(test=test, path="audio/q1.wav")
    item = test.subtests.get(code="B").items.get(identifier="b1")
    assert item.content_html == f'<p>Lyssna.</p><audio src="/assets/{asset.public_id}/"></audio>'
    assert item.audio_plays == 2
    again, problems = parse_definition(
        read_text(export_yaml(test), name="x.yaml"),
        today=TODAY,
        asset_paths={f"/assets/{asset.public_id}/"},
    )
    assert problems == [] and again["subtests"][1]["items"][0]["audio_plays"] == 2


def test_the_sanitiser_keeps_only_the_address_of_a_sound_that_is_an_asset():
    allowed = "/assets/11111111-1111-1111-1111-111111111111/"
    html = sanitise_html(
        f'<audio src="{allowed}" controls autoplay onplay="x()"></audio>'
        '<audio src="https://example.org/x.mp3"></audio>'
        '<audio src="data:audio/wav;base64,AA"></audio>',
        asset_urls=[allowed],
    )
    assert html == f'<audio src="{allowed}"></audio><audio></audio><audio></audio>'
