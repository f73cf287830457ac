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

The package is opened by exams.definitions.qti_package, which says how it is kept safe; each
item is converted by exams.definitions.qti_items.
"""

from __future__ import annotations

import datetime
import posixpath
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any
from xml.etree.ElementTree import Element

from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from exams.definitions.format import parse_definition
from exams.definitions.format_items import parse_item
from exams.definitions.problems import DefinitionInvalid, Problem
from exams.definitions.qti_items import convert_item, xml_number
from exams.definitions.qti_package import Package, PackageRefused, XmlRefused, package_path
from exams.definitions.rules import DefinitionRefused
from exams.definitions.services import test_create
from exams.models import Programme, TestDefinition

if TYPE_CHECKING:
    from schools.models import User

DEFAULT_WINDOW_DAYS = 30
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
    actor: User,
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
        package = Package(file)
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
            items: list[dict] = []
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
            seconds = xml_number(limits.get("max-time")) if limits is not None else None
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


def _item_from_ref(package: Package, ref: Element, test_dir: str, report: ImportReport, ident: str):
    href = ref.get("href") or ""
    path = package_path(test_dir, href, package.names)
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
