"""A QTI content package opened safely: a zip whose entries are checked before anything is read.

Names that lead out of the package, too many or too large entries and entries compressed
suspiciously well (a zip bomb) refuse the whole package; every read stays within the limits,
whatever an entry's header claims.

XML is parsed with defusedxml with DTDs, entities and external references forbidden, so entity
expansion ("billion laughs") and external entities are refused before anything is expanded.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from typing import IO
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from django.utils.translation import gettext as _

from provplattform.errors import Refused

MAX_PACKAGE_BYTES = 50 * 1024 * 1024
MAX_TOTAL_BYTES = 200 * 1024 * 1024
MAX_ENTRY_BYTES = 20 * 1024 * 1024
MAX_ENTRIES = 2000
MAX_RATIO = 100  # uncompressed / compressed, for entries above RATIO_FLOOR
RATIO_FLOOR = 1024 * 1024


class PackageRefused(Refused):
    pass


def _safe_name(name: str) -> bool:
    if not name or "\\" in name or name.startswith("/") or re.match(r"^[A-Za-z]:", name):
        return False
    return ".." not in name.split("/")


class Package:
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


def package_path(base_dir: str, href: str, names: set[str]) -> str | None:
    """`href` relative to `base_dir` as a file name of the package, or None when it is empty,
    leads out of the package or names no file in it."""
    path = posixpath.normpath(posixpath.join(base_dir, href))
    if not href or path.startswith("../") or path not in names:
        return None
    return path
