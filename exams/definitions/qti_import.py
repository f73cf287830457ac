"""QTI 3.0 content packages → draft test definitions.

A package is a zip with `imsmanifest.xml`, one `qti-assessment-test` and its item files.
Test parts and their sections become subtests (nested sections are flattened into the
top-level section that holds them); each item becomes an Item. What we support:

- `qti-choice-interaction` → single choice (max-choices="1") or multiple choice;
- `qti-text-entry-interaction` → text entry (base-type string) or numeric (float/integer);
- `qti-extended-text-interaction` → extended text, assessed by a person.

A referenced `qti-assessment-stimulus` (a shared reading passage) is put, sanitised like the
item, in front of the item body. Sound for listening parts (`audio`, or `object` with an audio
type) becomes an `<audio>` pointing at the package's file, imported as an asset like an image.

Anything else (hotspot, match, order, custom…) refuses that item, by name and with the item's
identifier, in the report, as do templates (randomised items) and media the sanitiser would
strip (video, an object that is not a sound, iframe…); the rest of the package is still
imported, as a draft, so the operator can decide. Nothing is dropped silently: what is
imported but not applied (selection, ordering, weights, time limits below a section, a second
test, outcome processing, markup the sanitiser removes, an item with no declared max score…) is
a warning naming it.
A package-level problem (not a zip, unsafe entry names, a zip bomb, bad or hostile XML in the
manifest or the test, a missing test file) imports nothing.

XML is parsed with defusedxml with DTDs, entities and external references forbidden, so entity
expansion ("billion laughs") and external entities are refused before anything is expanded.
"""

from __future__ import annotations

import datetime
import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError, tostring

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from exams.definitions.content import ALLOWED_TAGS, AUDIO_EXTENSIONS, image_sources
from exams.definitions.format import parse_definition
from exams.definitions.format_items import parse_item
from exams.definitions.problems import DefinitionInvalid, Problem
from exams.definitions.services import DefinitionRefused, test_create
from exams.models import ItemKind, Programme, TestDefinition
from provplattform.errors import Refused

DEFAULT_WINDOW_DAYS = 30
MAX_PACKAGE_BYTES = 50 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_ENTRY_BYTES = 20 * 1024 * 1024
MAX_ENTRIES = 2000
MAX_RATIO = 100  # uncompressed / compressed, for entries above RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024

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
OUTCOMES = ("qti-outcome-declaration", "qti-outcome-processing")
# Parts of the test structure that are read; anything else is reported by name.
TEST_ELEMENTS = {
    "qti-assessment-test",
    "qti-test-part",
    "qti-assessment-section",
    "qti-assessment-item-ref",
    "qti-time-limits",
}


@dataclass
class Refusal:
    identifier: str
    reason: str

    def __str__(self) -> str:
        return f"{self.identifier}: {self.reason}"


@dataclass
class ImportReport:
    test: TestDefinition | None = None
    created: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def imported(self) -> bool:
        return self.test is not None

    def lines(self) -> list[str]:
        out = []
        if self.test:
            out.append(
                _("Created %(title)s (%(code)s v%(version)s) as a draft.")
                % {"title": self.test.title, "code": self.test.code, "version": self.test.version}
            )
        out += [f"  + {line}" for line in self.created]
        out += [_("Refused %s") % r for r in self.refused]
        out += [_("Warning: %s") % w for w in self.warnings]
        out += [_("Error: %s") % e for e in self.errors]
        return out


class PackageRefused(Refused):
    pass


# --- zip and XML safety -----------------------------------------------------------------------


def _safe_name(name: str) -> bool:
    if not name or "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return False
    return ".." not in name.split("/")


class _Package:
    def __init__(self, file: IO[bytes] | str):
        try:
            self.zip = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, OSError) as exc:
            raise PackageRefused(_("The file is not a zip package.")) from exc
        infos = self.zip.infolist()
        if len(infos) > MAX_ENTRIES:
            raise PackageRefused(_("The package has more than %s files.") % MAX_ENTRIES)
        total = 0
        self.names: set[str] = set()
        for info in infos:
            if not _safe_name(info.filename):
                raise PackageRefused(_("Unsafe file name in the package: %s") % info.filename)
            total += info.file_size
            if info.file_size > MAX_ENTRY_BYTES:
                raise PackageRefused(_("%s is too large.") % info.filename)
            if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(
                info.compress_size, 1
            ):
                raise PackageRefused(
                    _("%s is compressed suspiciously well (zip bomb?).") % info.filename
                )
            if not info.is_dir():
                self.names.add(info.filename)
        if total > MAX_TOTAL_BYTES:
            raise PackageRefused(
                _("The package unpacks to more than %s MB.") % (MAX_TOTAL_BYTES // 2**20)
            )
        self.read_total = 0

    def read(self, name: str) -> bytes:
        """Read an entry, never more than the limits, whatever its header claims."""
        try:
            with self.zip.open(name) as handle:
                data = handle.read(MAX_ENTRY_BYTES + 1)
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
            # A wrong checksum, a header that under-states its entry, an unknown compression.
            raise PackageRefused(_("%s cannot be read from the package.") % name) from exc
        if len(data) > MAX_ENTRY_BYTES:
            raise PackageRefused(_("%s is too large.") % name)
        self.read_total += len(data)
        if self.read_total > MAX_TOTAL_BYTES:
            raise PackageRefused(
                _("The package unpacks to more than %s MB.") % (MAX_TOTAL_BYTES // 2**20)
            )
        return data

    def xml(self, name: str) -> Element:
        try:
            root = fromstring(
                self.read(name), forbid_dtd=True, forbid_entities=True, forbid_external=True
            )
        except DefusedXmlException as exc:
            raise XmlRefused(
                _("%s: refused, the XML declares a DTD or entities (%s).")
                % (name, type(exc).__name__)
            ) from exc
        except ParseError as exc:
            raise XmlRefused(_("%s: not well-formed XML (%s).") % (name, exc)) from exc
        _strip_namespaces(root)
        return root


class XmlRefused(PackageRefused):
    pass


def _strip_namespaces(root: Element) -> None:
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]
        for key in [k for k in el.attrib if "}" in k]:
            local = key.split("}", 1)[1]
            value = el.attrib.pop(key)
            if local == "lang":
                el.attrib["lang"] = value


# --- items ------------------------------------------------------------------------------------


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


def _number(text: str | None) -> float | None:
    try:
        return float(str(text).strip())
    except (TypeError, ValueError):
        return None


def _max_score(item: Element, decl: Element | None) -> float | None:
    """The item's max score as the package declares it, or None when it declares none."""
    for outcome in item.findall("qti-outcome-declaration"):
        if outcome.get("identifier") == "MAXSCORE":
            value = _number(outcome.findtext("qti-default-value/qti-value"))
            if value is not None:
                return value
    for outcome in item.findall("qti-outcome-declaration"):
        if outcome.get("identifier") == "SCORE" and outcome.get("normal-maximum"):
            value = _number(outcome.get("normal-maximum"))
            if value is not None:
                return value
    mapping = decl.find("qti-mapping") if decl is not None else None
    if mapping is not None:
        if mapping.get("upper-bound"):
            return _number(mapping.get("upper-bound")) or 1
        values = [_number(e.get("mapped-value")) or 0 for e in mapping.findall("qti-map-entry")]
        positive = [v for v in values if v > 0]
        if positive:
            return sum(positive) if decl.get("cardinality") == "multiple" else max(positive)
    return None


def _tolerance(item: Element, value: float) -> float:
    for equal in item.iter("qti-equal"):
        raw = (equal.get("tolerance") or "").split()
        if not raw:
            continue
        tolerance = _number(raw[-1]) or 0.0
        if equal.get("tolerance-mode") == "relative":
            return abs(value) * tolerance / 100
        return tolerance
    return 0.0


STIMULUS_BASE = "data-qti-base"


def _package_path(base_dir: str, href: str, names: set[str]) -> str | None:
    """`href` relative to `base_dir` as a file name of the package, or None when it is empty,
    leads out of the package or names no file in it."""
    path = posixpath.normpath(posixpath.join(base_dir, href))
    if not href or path.startswith("../") or path not in names:
        return None
    return path


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
    path = _package_path(posixpath.dirname(item_path), href, names)
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
        e.get("map-key", "").strip(): _number(e.get("mapped-value")) or 0
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
            value = _number(correct[0]) if correct else None
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
        path = _package_path(img.attrib.pop(STIMULUS_BASE, base_dir), src, names)
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
        path = _package_path(sound.attrib.pop(STIMULUS_BASE, base_dir), src, names)
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


# --- the package ------------------------------------------------------------------------------


def _test_href(manifest: Element, names: set[str], report: ImportReport) -> str:
    resources = list(manifest.iter("resource"))
    for resource in resources:
        href = resource.get("href")
        if href and href not in names:
            report.warnings.append(_("the manifest names %s, which is not in the package") % href)
    tests = [
        r.get("href")
        for r in resources
        if (r.get("type") or "").startswith("imsqti_test_xmlv3p0") and r.get("href")
    ]
    if not tests:
        raise PackageRefused(_("imsmanifest.xml names no qti-assessment-test resource."))
    if tests[0] not in names:
        raise PackageRefused(_("imsmanifest.xml names %s, which is not in the package.") % tests[0])
    for other in dict.fromkeys(tests[1:]):
        if other != tests[0]:
            report.warnings.append(
                _("the manifest names a second test, %(other)s; only %(first)s was imported")
                % {"other": other, "first": tests[0]}
            )
    return tests[0]


def _where(el: Element) -> str:
    ident = el.get("identifier") or "?"
    if el.tag == "qti-assessment-section":
        return _("section %s") % ident
    if el.tag == "qti-assessment-item-ref":
        return _("item %s") % ident
    if el.tag == "qti-test-part":
        return _("test part %s") % ident
    return _("the test")


def _structure_warnings(el: Element, report: ImportReport, *, nested: bool = False) -> None:
    """Report by name every part of the test structure that the import does not apply.

    `nested`: `el` is a section inside a section (flattened into its top-level section).
    """
    outcomes = sorted({child.tag for child in el if child.tag in OUTCOMES})
    if outcomes:
        report.warnings.append(
            _("%(where)s: %(tags)s not read; the test total is the sum of the item points")
            % {"where": _where(el), "tags": ", ".join(outcomes)}
        )
    for child in el:
        if child.tag == "qti-time-limits" and (nested or el.tag == "qti-assessment-item-ref"):
            report.warnings.append(
                _("%s: qti-time-limits not applied; the subtest's duration is used") % _where(el)
            )
            continue
        if child.tag in TEST_ELEMENTS:
            _structure_warnings(child, report, nested=nested or el.tag == "qti-assessment-section")
            continue
        where = _where(el)
        if child.tag == "qti-selection":
            report.warnings.append(
                _(
                    "%(where)s: qti-selection (select %(select)s) is not supported; all its "
                    "%(count)s items were imported and every student gets all of them"
                )
                % {
                    "where": where,
                    "select": child.get("select") or "?",
                    "count": len(list(el.iter("qti-assessment-item-ref"))),
                }
            )
        elif child.tag == "qti-ordering":
            report.warnings.append(
                _("%s: qti-ordering (shuffle) is not supported; the items keep the package order")
                % where
            )
        elif child.tag == "qti-weight":
            report.warnings.append(
                _(
                    "%(where)s: qti-weight %(weight)s (%(value)s) is not applied; the item "
                    "keeps its own max score"
                )
                % {
                    "where": where,
                    "weight": child.get("identifier") or "?",
                    "value": child.get("value") or "?",
                }
            )
        elif child.tag in OUTCOMES:
            continue
        else:
            report.warnings.append(
                _("%(where)s: %(tag)s is not supported and was left out")
                % {"where": where, "tag": child.tag}
            )


def _sections(test_root: Element) -> list[tuple[Element, list[Element], Element | None]]:
    """(section, its item refs including nested sections', time limits) per top-level section."""
    found = []
    for part in test_root.findall("qti-test-part"):
        for section in part.findall("qti-assessment-section"):
            limits = section.find("qti-time-limits")
            if limits is None:
                limits = part.find("qti-time-limits")
            if limits is None:
                limits = test_root.find("qti-time-limits")
            found.append((section, list(section.iter("qti-assessment-item-ref")), limits))
    return found


def import_package(
    *,
    actor,
    file: IO[bytes] | str,
    programme: str = Programme.SE_NATIONAL,
    subject: str = "",
    grade: int = 9,
    window_start: datetime.date | None = None,
    window_end: datetime.date | None = None,
) -> ImportReport:
    """Import a QTI 3.0 package as a draft test; the report says what was made and refused."""
    report = ImportReport()
    try:
        package = _Package(file)
        if "imsmanifest.xml" not in package.names:
            raise PackageRefused(_("The package has no imsmanifest.xml."))
        manifest = package.xml("imsmanifest.xml")
        test_href = _test_href(manifest, package.names, report)
        test_root = package.xml(test_href)
        if test_root.tag != "qti-assessment-test":
            raise PackageRefused(_("%s is not a qti-assessment-test.") % test_href)
        _structure_warnings(test_root, report)
        today = timezone.localdate()
        raw: dict[str, Any] = {
            "code": slugify(test_root.get("identifier") or "")[:70] or "qti-import",
            "title": test_root.get("title") or test_root.get("identifier") or "QTI",
            "programme": programme,
            "subject": subject or test_root.get("title") or "—",
            "grade": grade,
            "window": {
                "start": window_start or today,
                "end": window_end
                or (window_start or today) + datetime.timedelta(days=DEFAULT_WINDOW_DAYS),
            },
            "subtests": [],
        }
        images: set[str] = set()
        test_dir = posixpath.dirname(test_href)
        for index, (section, refs, limits) in enumerate(_sections(test_root), start=1):
            code = (section.get("identifier") or f"S{index}")[:40]
            items = []
            for ref in refs:
                ident = ref.get("identifier") or ref.get("href") or "?"
                item = _item_from_ref(package, ref, test_dir, report, ident)
                if item is None:
                    continue
                item_raw, item_images, warnings = item
                item_raw["id"] = item_raw["id"] or ident
                if any(i["id"] == item_raw["id"] for i in items):
                    report.refused.append(Refusal(ident, _("the identifier is used twice")))
                    continue
                problems: list[Problem] = []
                parse_item(item_raw, ident, set(item_images), problems)
                if problems:
                    report.refused.append(Refusal(ident, "; ".join(p.message for p in problems)))
                    continue
                report.warnings += [f"{ident}: {w}" for w in warnings]
                images.update(item_images)
                items.append(item_raw)
            if not items:
                report.warnings.append(
                    _("section %s has no importable items and was left out") % code
                )
                continue
            seconds = _number(limits.get("max-time")) if limits is not None else None
            raw["subtests"].append(
                {
                    "code": code,
                    "title": section.get("title") or code,
                    "duration_minutes": max(1, round(seconds / 60)) if seconds else 45,
                    "items": items,
                }
            )
            report.created.append(
                _("subtest %(code)s: %(count)s items") % {"code": code, "count": len(items)}
            )
        if not raw["subtests"]:
            raise PackageRefused(_("No item could be imported."))
        spec, problems = parse_definition(raw, asset_paths=images)
        if problems:
            raise DefinitionInvalid(problems)
        assets = {path: package.read(path) for path in sorted(images)}
        with transaction.atomic():
            report.test = test_create(actor=actor, spec=spec, assets=assets, source="qti")
    except PackageRefused as exc:
        report.errors.append(str(exc))
        report.created = []
    except DefinitionInvalid as exc:
        report.errors += [str(p) for p in exc.problems]
        report.created = []
    except DefinitionRefused as exc:
        report.errors.append(str(exc))
        report.created = []
    return report


def _item_from_ref(
    package: _Package, ref: Element, test_dir: str, report: ImportReport, ident: str
):
    href = ref.get("href") or ""
    path = _package_path(test_dir, href, package.names)
    if path is None:
        report.refused.append(Refusal(ident, _("item file %s is not in the package") % href))
        return None
    try:
        root = package.xml(path)
    except XmlRefused as exc:
        report.refused.append(Refusal(ident, str(exc)))
        return None
    try:
        return convert_item(root, item_path=path, names=package.names, read_xml=package.xml)
    except ValueError as exc:
        report.refused.append(Refusal(ident, _("%s; item refused") % exc))
        return None
