"""One QTI 3.0 item (`qti-assessment-item`) → the item mapping of the definition format.

Which interactions are supported, which markup is refused with the item and which is only
reported is described in exams.definitions.qti_import.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterable
from typing import Any
from xml.etree.ElementTree import Element, tostring

from django.utils.translation import gettext as _

from exams.definitions.content import ALLOWED_TAGS, AUDIO_EXTENSIONS, image_sources
from exams.definitions.qti_package import XmlRefused, package_path
from exams.models import ItemKind

SUPPORTED = {
    "qti-choice-interaction",
    "qti-text-entry-interaction",
    "qti-extended-text-interaction",
}
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
# Never shown to students: scorer rubrics and feedback could give answers away.
REMOVED = {
    "qti-rubric-block",
    "qti-feedback-block",
    "qti-feedback-inline",
    "qti-modal-feedback",
    "qti-template-block",
    "qti-template-inline",
    "qti-printed-variable",
    "qti-stylesheet",
    "qti-catalog-info",
}
# Elements the content sanitiser would remove together with what the student needs (a sound, a
# film, an embedded page): an item that uses them cannot be taken as written, so it is refused.
MEDIA = {
    "video",
    "source",
    "track",
    "object",
    "embed",
    "iframe",
    "frame",
    "frameset",
    "applet",
    "canvas",
    "svg",
    "picture",
    "map",
    "area",
    "input",
    "button",
    "select",
    "textarea",
    "form",
}
# Sound is the exception: `audio` (with a `src` or `source` children of an audio type) and
# `object` with an audio type become one `<audio src>` pointing into the package (listening
# parts); any other object, or a sound outside the package, refuses the item.
AUDIO_TYPE = re.compile(r"^audio/", re.I)
# Removed with their content by the sanitiser; reported as a warning.
DROPPED_WITH_CONTENT = {"script", "style", "noscript", "template"}
# Children of qti-assessment-item that are read (or knowingly left out, see REMOVED).
ITEM_CHILDREN = {
    "qti-response-declaration",
    "qti-outcome-declaration",
    "qti-item-body",
    "qti-response-processing",
    "qti-assessment-stimulus-ref",
}
# Randomised ("cloned") items: the content depends on values drawn per student.
TEMPLATE_ELEMENTS = {"qti-template-declaration", "qti-template-processing"}
RESPONSE_TEMPLATES = ("match_correct", "map_response")


def _inner(el: Element) -> str:
    return (el.text or "") + "".join(tostring(c, encoding="unicode") for c in el)


def _replace(parents: dict, old: Element, new: Element | None) -> None:
    parent = parents[old]
    index = list(parent).index(old)
    parent.remove(old)
    if new is not None:
        new.tail = old.tail
        parent.insert(index, new)
    elif old.tail:
        if index > 0:
            parent[index - 1].tail = (parent[index - 1].tail or "") + old.tail
        else:
            parent.text = (parent.text or "") + old.tail


def xml_number(text: str | None) -> float | None:
    try:
        return float(str(text).strip())
    except (TypeError, ValueError):
        return None


def _max_score(item: Element, decl: Element | None) -> float | None:
    """The item's max score as the package declares it, or None when it declares none."""
    for outcome in item.findall("qti-outcome-declaration"):
        if outcome.get("identifier") == "MAXSCORE":
            value = xml_number(outcome.findtext("qti-default-value/qti-value"))
            if value is not None:
                return value
    for outcome in item.findall("qti-outcome-declaration"):
        if outcome.get("identifier") == "SCORE" and outcome.get("normal-maximum"):
            value = xml_number(outcome.get("normal-maximum"))
            if value is not None:
                return value
    mapping = decl.find("qti-mapping") if decl is not None else None
    if mapping is not None:
        if mapping.get("upper-bound"):
            return xml_number(mapping.get("upper-bound")) or 1
        values = [xml_number(e.get("mapped-value")) or 0 for e in mapping.findall("qti-map-entry")]
        positive = [v for v in values if v > 0]
        if positive:
            return sum(positive) if decl.get("cardinality") == "multiple" else max(positive)
    return None


def _tolerance(item: Element, value: float) -> float:
    for equal in item.iter("qti-equal"):
        raw = (equal.get("tolerance") or "").split()
        if not raw:
            continue
        tolerance = xml_number(raw[-1]) or 0.0
        if equal.get("tolerance-mode") == "relative":
            return abs(value) * tolerance / 100
        return tolerance
    return 0.0


STIMULUS_BASE = "data-qti-base"


def _stimulus(
    ref: Element,
    *,
    item_path: str,
    names: set[str],
    read_xml: Callable[[str], Element],
    warnings: list[str],
) -> Element:
    """The body of a referenced qti-assessment-stimulus, as a div to put in front of the item."""
    href = (ref.get("href") or "").strip()
    label = href or ref.get("identifier") or "?"
    path = package_path(posixpath.dirname(item_path), href, names)
    if path is None:
        raise ValueError(_("stimulus %s is not in the package") % label)
    try:
        stimulus = read_xml(path)
    except XmlRefused as exc:
        raise ValueError(str(exc)) from exc
    if stimulus.tag != "qti-assessment-stimulus":
        raise ValueError(_("%s is not a qti-assessment-stimulus") % label)
    stimulus_body = stimulus.find("qti-stimulus-body")
    if stimulus_body is None:
        raise ValueError(_("stimulus %s has no qti-stimulus-body") % label)
    for child in stimulus:
        if child.tag != "qti-stimulus-body":
            warnings.append(
                _("stimulus %(stimulus)s: %(tag)s left out") % {"stimulus": label, "tag": child.tag}
            )
    div = Element("div", {"class": "stimulus"})
    div.text = stimulus_body.text
    for child in list(stimulus_body):
        div.append(child)
    # Its images are relative to the stimulus file, not to the item.
    for img in div.iter("img"):
        img.set(STIMULUS_BASE, posixpath.dirname(path))
    for sound in (*div.iter("audio"), *div.iter("object")):
        sound.set(STIMULUS_BASE, posixpath.dirname(path))
    return div


def _sounds_to_audio(body: Element) -> None:
    """`object` of an audio type and `audio` with `source` children → `<audio src>`; the
    address is checked with the images. Other objects stay and refuse the item."""
    parents = {child: parent for parent in body.iter() for child in parent}
    for element in list(body.iter()):
        if element.tag == "object" and AUDIO_TYPE.match(element.get("type") or ""):
            src = element.get("data") or ""
        elif element.tag == "audio":
            src = element.get("src") or ""
            if not src:
                for source in element.iter("source"):
                    if not source.get("type") or AUDIO_TYPE.match(source.get("type") or ""):
                        src = source.get("src") or ""
                        break
        else:
            continue
        audio = Element("audio", {"src": src.strip()})
        if element.get(STIMULUS_BASE):
            audio.set(STIMULUS_BASE, element.get(STIMULUS_BASE))
        audio.tail = element.tail
        _replace(parents, element, audio)


def _check_elements(elements: Iterable[Element], warnings: list[str]) -> None:
    """Refuse what the sanitiser would remove with content the student needs; report the rest."""
    tags = {el.tag for el in elements if isinstance(el.tag, str)}
    media = sorted(tags & MEDIA)
    if media:
        raise ValueError(
            _("%s is not supported (it would be removed from the item)") % ", ".join(media)
        )
    for tag in sorted(tags & DROPPED_WITH_CONTENT):
        warnings.append(_("%s removed with its content") % tag)
    for tag in sorted(tags - ALLOWED_TAGS - DROPPED_WITH_CONTENT):
        warnings.append(_("%s is not supported: the element is removed, its text kept") % tag)


def convert_item(
    root: Element,
    *,
    item_path: str,
    names: set[str],
    read_xml: Callable[[str], Element],
) -> tuple[dict, list[str], list[str]]:
    """One qti-assessment-item → (item mapping of the definition format, images, warnings).

    `read_xml` reads another file of the package (a referenced stimulus). Raises ValueError
    with the reason when the item cannot be imported.
    """
    if root.tag != "qti-assessment-item":
        raise ValueError(_("not a qti-assessment-item (found %s)") % root.tag)
    identifier = (root.get("identifier") or "").strip()[:100]
    body = root.find("qti-item-body")
    if body is None:
        raise ValueError(_("no qti-item-body"))
    templates = sorted({child.tag for child in root if child.tag in TEMPLATE_ELEMENTS})
    if templates:
        raise ValueError(_("%s (a randomised item) is not supported") % ", ".join(templates))
    warnings: list[str] = []
    for child in root:
        if child.tag in ITEM_CHILDREN:
            continue
        if child.tag in REMOVED:
            warnings.append(_("%s left out (not shown to students)") % child.tag)
        else:
            warnings.append(_("%s is not supported and was left out") % child.tag)
    processing = root.find("qti-response-processing")
    if processing is not None and (
        len(processing)
        or not any(t in (processing.get("template") or "") for t in RESPONSE_TEMPLATES)
    ):
        warnings.append(
            _(
                "its own qti-response-processing is not read; it is scored by the correct "
                "response and the mapping"
            )
        )
    stimuli = [
        _stimulus(ref, item_path=item_path, names=names, read_xml=read_xml, warnings=warnings)
        for ref in root.findall("qti-assessment-stimulus-ref")
    ]
    for position, stimulus in enumerate(stimuli):
        body.insert(position, stimulus)
    if stimuli:
        stimuli[-1].tail, body.text = body.text, None
    interactions = [el for el in body.iter() if el.tag.endswith("-interaction")]
    unsupported = sorted({el.tag for el in interactions if el.tag not in SUPPORTED})
    if unsupported:
        raise ValueError(_("%s is not supported") % ", ".join(unsupported))
    if not interactions:
        raise ValueError(_("no interaction"))
    if len(interactions) > 1:
        raise ValueError(
            _("%s interactions in one item; one per item is supported") % len(interactions)
        )
    interaction = interactions[0]
    parents = {child: parent for parent in body.iter() for child in parent}
    criteria = []
    for el in list(body.iter()):
        if el.tag in REMOVED and el in parents:
            if el.tag == "qti-rubric-block":
                criteria.append(" ".join("".join(el.itertext()).split()))
            else:
                warnings.append(_("%s left out (not shown to students)") % el.tag)
            _replace(parents, el, None)

    response_id = interaction.get("response-identifier")
    decl = next(
        (d for d in root.findall("qti-response-declaration") if d.get("identifier") == response_id),
        None,
    )
    correct = [
        (v.text or "").strip()
        for v in (decl.findall("qti-correct-response/qti-value") if decl is not None else [])
    ]
    mapping = decl.find("qti-mapping") if decl is not None else None
    mapped = {
        e.get("map-key", "").strip(): xml_number(e.get("mapped-value")) or 0
        for e in (mapping.findall("qti-map-entry") if mapping is not None else [])
    }
    points = _max_score(root, decl)
    if points is None:
        points = 1
        warnings.append(
            _(
                "no maximum score is declared (MAXSCORE, SCORE normal-maximum or a mapping); "
                "counted as 1 point"
            )
        )
    if points != int(points) or points < 1:
        raise ValueError(_("max score %s is not a whole number of at least 1") % points)
    raw: dict[str, Any] = {"id": identifier, "points": int(points), "criteria": "\n".join(criteria)}

    prompt = interaction.find("qti-prompt")
    replacement = Element("div", {"class": "prompt"}) if prompt is not None else None
    if interaction.tag == "qti-choice-interaction":
        choices = interaction.findall("qti-simple-choice")
        _check_elements((el for c in choices for el in c.iter() if el is not c), warnings)
        max_choices = int(interaction.get("max-choices") or 1)
        single = max_choices == 1 and (decl is None or decl.get("cardinality") != "multiple")
        raw["kind"] = ItemKind.SINGLE_CHOICE if single else ItemKind.MULTIPLE_CHOICE
        raw["choices"] = [{"id": c.get("identifier"), "html": _inner(c)} for c in choices]
        if not correct and mapped:
            correct = [k for k, v in mapped.items() if v > 0]
            if not single:
                warnings.append(_("partial-credit mapping scored all or nothing"))
        raw["correct"] = correct
    elif interaction.tag == "qti-text-entry-interaction":
        base = decl.get("base-type") if decl is not None else "string"
        if base in ("float", "integer"):
            value = xml_number(correct[0]) if correct else None
            raw.update(kind=ItemKind.NUMERIC, value=value, tolerance=_tolerance(root, value or 0.0))
        else:
            raw["kind"] = ItemKind.TEXT_ENTRY
            raw["accepted"] = list(
                dict.fromkeys(correct + [k for k, v in mapped.items() if v > 0 and k])
            )
            if mapping is not None and mapping.get("case-sensitive") == "true":
                warnings.append(_("case-sensitive answers are compared ignoring case"))
        replacement = Element("span", {"class": "blank"})
        replacement.text = "\u2002" * 6
    else:
        raw["kind"] = ItemKind.EXTENDED_TEXT
    if prompt is not None and replacement is not None and replacement.tag == "div":
        replacement.text = prompt.text
        for child in list(prompt):
            replacement.append(child)
    _replace(parents, interaction, replacement)
    _sounds_to_audio(body)
    _check_elements((el for el in body.iter() if el is not body), warnings)

    # Images: relative to the item (or stimulus) file, inside the package, of an image type.
    base_dir = posixpath.dirname(item_path)
    images: list[str] = []
    for img in body.iter("img"):
        src = (img.get("src") or "").strip()
        if re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I) or src.startswith("/"):
            raise ValueError(_("image %s is outside the package") % src)
        path = package_path(img.attrib.pop(STIMULUS_BASE, base_dir), src, names)
        if path is None:
            raise ValueError(_("image %s is not in the package") % src)
        if posixpath.splitext(path)[1].lower() not in IMAGE_EXTENSIONS:
            raise ValueError(_("image %s: only PNG, JPEG, GIF and WebP are supported") % src)
        img.set("src", path)
        images.append(path)
    for sound in body.iter("audio"):
        src = (sound.get("src") or "").strip()
        if not src or re.match(r"^[a-z][a-z0-9+.-]*:", src, re.I) or src.startswith("/"):
            raise ValueError(_("sound %s is outside the package") % (src or "?"))
        path = package_path(sound.attrib.pop(STIMULUS_BASE, base_dir), src, names)
        if path is None:
            raise ValueError(_("sound %s is not in the package") % src)
        if posixpath.splitext(path)[1].lower() not in AUDIO_EXTENSIONS:
            raise ValueError(
                _("sound %(src)s: only %(types)s are supported")
                % {"src": src, "types": ", ".join(sorted(AUDIO_EXTENSIONS))}
            )
        sound.set("src", path)
        images.append(path)
    raw["html"] = _inner(body).strip()
    for choice in raw.get("choices", []):
        for src in image_sources(choice["html"]):
            raise ValueError(_("image %s inside a choice is not supported") % src)
    return raw, images, warnings
