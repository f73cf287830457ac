"""Small QTI 3.0 packages built in code for the import tests."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

NS = "http://www.imsglobal.org/xsd/imsqtiasi_v3p0"
PNG = (
    b"\x89PNG\r\n\x1a\n"
    + struct.pack(">I", 13)
    + b"IHDR"
    + struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    + struct.pack(">I", zlib.crc32(b"IHDR" + struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)))
    + struct.pack(">I", 0)
    + b"IEND"
    + struct.pack(">I", zlib.crc32(b"IEND"))
)


def manifest(test_href: str = "test.xml", items: list[str] = (), extra: str = "") -> str:
    resources = "".join(
        f'<resource identifier="r{i}" type="imsqti_item_xmlv3p0" href="{href}">'
        f'<file href="{href}"/></resource>'
        for i, href in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest xmlns="http://www.imsglobal.org/xsd/qti/qtiv3p0/imscp_v1p1" identifier="m1">'
        "<organizations/><resources>"
        f'<resource identifier="t1" type="imsqti_test_xmlv3p0" href="{test_href}">'
        f'<file href="{test_href}"/></resource>{resources}{extra}'
        "</resources></manifest>"
    )


def assessment_test(
    sections: dict[str, list[str]],
    *,
    identifier="np-ma-qti",
    title="Prov i matematik (QTI)",
    max_time: int | None = 2400,
) -> str:
    body = ""
    for section, hrefs in sections.items():
        refs = "".join(
            f'<qti-assessment-item-ref identifier="{h.rsplit("/", 1)[-1][:-4]}" href="{h}"/>'
            for h in hrefs
        )
        limits = f'<qti-time-limits max-time="{max_time}"/>' if max_time else ""
        body += (
            f'<qti-assessment-section identifier="{section}" title="Delprov {section}" '
            f'visible="true">{limits}{refs}</qti-assessment-section>'
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><qti-assessment-test xmlns="{NS}" '
        f'identifier="{identifier}" title="{title}"><qti-test-part identifier="P1" '
        f'navigation-mode="nonlinear" submission-mode="simultaneous">{body}</qti-test-part>'
        "</qti-assessment-test>"
    )


def item(
    identifier: str,
    body: str,
    declarations: str,
    *,
    maxscore: float | None = None,
    prolog: str = "",
) -> str:
    outcome = '<qti-outcome-declaration identifier="SCORE" cardinality="single" base-type="float"/>'
    if maxscore is not None:
        outcome += (
            '<qti-outcome-declaration identifier="MAXSCORE" cardinality="single" '
            f'base-type="float"><qti-default-value><qti-value>{maxscore}</qti-value>'
            "</qti-default-value></qti-outcome-declaration>"
        )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<qti-assessment-item xmlns="{NS}" '
        f'identifier="{identifier}" title="{identifier}" adaptive="false" '
        f'time-dependent="false">{declarations}{outcome}<qti-item-body>{body}</qti-item-body>'
        '<qti-response-processing template="https://purl.imsglobal.org/spec/qti/v3p0/'
        'rptemplates/match_correct.xml"/></qti-assessment-item>'
    )


def response(cardinality: str, base_type: str, correct: list[str], mapping: str = "") -> str:
    values = "".join(f"<qti-value>{v}</qti-value>" for v in correct)
    return (
        f'<qti-response-declaration identifier="RESPONSE" cardinality="{cardinality}" '
        f'base-type="{base_type}"><qti-correct-response>{values}</qti-correct-response>'
        f"{mapping}</qti-response-declaration>"
    )


def choices(*pairs: tuple[str, str]) -> str:
    return "".join(
        f'<qti-simple-choice identifier="{i}">{text}</qti-simple-choice>' for i, text in pairs
    )


SINGLE = item(
    "q-single",
    '<p>Vilket tal är störst?</p><img src="../images/diagram.png" alt="Diagram"/>'
    '<qti-choice-interaction response-identifier="RESPONSE" max-choices="1">'
    "<qti-prompt>Välj ett alternativ.</qti-prompt>"
    + choices(("A", "0,45"), ("B", "0,5"), ("C", "0,405"))
    + "</qti-choice-interaction>",
    response("single", "identifier", ["B"]),
)
MULTIPLE = item(
    "q-multiple",
    '<p>Vilka tal är primtal?</p><qti-choice-interaction response-identifier="RESPONSE" '
    'max-choices="0">'
    + choices(("A", "2"), ("B", "4"), ("C", "7"), ("D", "9"))
    + "</qti-choice-interaction>",
    response("multiple", "identifier", ["A", "C"]),
    maxscore=2,
)
TEXT = item(
    "q-text",
    "<p>Huvudstaden i Norge heter "
    '<qti-text-entry-interaction response-identifier="RESPONSE"/>.</p>',
    response(
        "single",
        "string",
        ["Oslo"],
        '<qti-mapping default-value="0"><qti-map-entry map-key="Oslo" mapped-value="1"/>'
        '<qti-map-entry map-key="Christiania" mapped-value="1"/></qti-mapping>',
    ),
)
NUMERIC = item(
    "q-numeric",
    '<p>Beräkna 7 / 4 = <qti-text-entry-interaction response-identifier="RESPONSE"/></p>',
    response("single", "float", ["1.75"]),
)
ESSAY = item(
    "q-essay",
    '<qti-rubric-block view="scorer"><p>1 p för metod, 2 p för korrekt svar.</p>'
    "</qti-rubric-block><p>Förklara hur du löser ekvationen 3x + 5 = 20.</p>"
    '<qti-extended-text-interaction response-identifier="RESPONSE" expected-lines="8">'
    "<qti-prompt>Visa dina beräkningar.</qti-prompt></qti-extended-text-interaction>"
    "<script>alert(1)</script>",
    '<qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="string"/>',
    maxscore=3,
)
HOTSPOT = item(
    "q-hotspot",
    '<qti-hotspot-interaction response-identifier="RESPONSE" max-choices="1">'
    '<qti-hotspot-choice identifier="H1" shape="circle" coords="10,10,5"/>'
    "</qti-hotspot-interaction>",
    response("single", "identifier", ["H1"]),
)
MATCH = item(
    "q-match",
    '<qti-match-interaction response-identifier="RESPONSE" max-associations="2">'
    "</qti-match-interaction>",
    response("multiple", "directedPair", ["A B"]),
)

BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    '<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">'
    '<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">'
    '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>'
    "<manifest><resources>&lol3;</resources></manifest>"
)
EXTERNAL_ENTITY_ITEM = (
    '<?xml version="1.0"?><!DOCTYPE qti-assessment-item [<!ENTITY xxe SYSTEM '
    '"file:///etc/passwd">]>'
    f'<qti-assessment-item xmlns="{NS}" identifier="q-xxe"><qti-item-body><p>&xxe;</p>'
    '<qti-extended-text-interaction response-identifier="RESPONSE"/></qti-item-body>'
    "</qti-assessment-item>"
)


def build(files: dict[str, str | bytes], *, compression=zipfile.ZIP_DEFLATED) -> io.BytesIO:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    buffer.seek(0)
    buffer.name = "package.zip"
    return buffer


def good_package() -> io.BytesIO:
    items = {
        "items/q-single.xml": SINGLE,
        "items/q-multiple.xml": MULTIPLE,
        "items/q-text.xml": TEXT,
        "items/q-numeric.xml": NUMERIC,
        "items/q-essay.xml": ESSAY,
    }
    return build(
        {
            "imsmanifest.xml": manifest(items=list(items)),
            "test.xml": assessment_test(
                {
                    "A": ["items/q-single.xml", "items/q-multiple.xml", "items/q-text.xml"],
                    "B": ["items/q-numeric.xml", "items/q-essay.xml"],
                }
            ),
            **items,
            "images/diagram.png": PNG,
        }
    )


def unsupported_package() -> io.BytesIO:
    items = {
        "items/q-single.xml": SINGLE,
        "items/q-hotspot.xml": HOTSPOT,
        "items/q-match.xml": MATCH,
    }
    return build(
        {
            "imsmanifest.xml": manifest(items=list(items)),
            "test.xml": assessment_test({"A": list(items)}),
            **items,
            "images/diagram.png": PNG,
        }
    )


def stimulus(identifier: str, body: str) -> str:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><qti-assessment-stimulus xmlns="{NS}" '
        f'identifier="{identifier}" title="{identifier}"><qti-stimulus-body>{body}'
        "</qti-stimulus-body></qti-assessment-stimulus>"
    )


def essay_item(identifier: str, body: str = "", *, before_body: str = "") -> str:
    """An extended-text item with extra markup in its body and before it (stimulus refs…)."""
    return item(
        identifier,
        f'{body}<qti-extended-text-interaction response-identifier="RESPONSE"/>',
        '<qti-response-declaration identifier="RESPONSE" cardinality="single" base-type="string"/>'
        + before_body,
        maxscore=2,
    )


def single_item_package(item_xml: str, extra: dict[str, str | bytes] | None = None) -> io.BytesIO:
    """A package with one section holding q-text and the given item (saved as items/q-x.xml)."""
    return build(
        {
            "imsmanifest.xml": manifest(items=["items/q-text.xml", "items/q-x.xml"]),
            "test.xml": assessment_test({"A": ["items/q-text.xml", "items/q-x.xml"]}),
            "items/q-text.xml": TEXT,
            "items/q-x.xml": item_xml,
            **(extra or {}),
        }
    )
