"""Item content as sanitised HTML.

Item text arrives from people and packages we do not control (YAML files, QTI zips), and is shown
to students inside a running test. It is cleaned once, when it is written, with an allow-list:
text structure, tables, a MathML subset, images and sound (`audio`, for listening parts). An image
or a sound may only point at one of the test's own assets; any other `src` (another site, a
`data:` or `javascript:` URL) is removed, so item content can neither load anything from outside
nor run script. A sound keeps no attribute but its address: the exam client plays it with its own
controls, which count the plays the definition allows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import nh3

TEXT_TAGS = {
    "p",
    "br",
    "hr",
    "span",
    "div",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "s",
    "sub",
    "sup",
    "small",
    "mark",
    "blockquote",
    "q",
    "cite",
    "code",
    "pre",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "dl",
    "dt",
    "dd",
    "figure",
    "figcaption",
    "abbr",
}
TABLE_TAGS = {"table", "caption", "thead", "tbody", "tfoot", "tr", "th", "td", "colgroup", "col"}
MATHML_TAGS = {
    "math",
    "mrow",
    "mi",
    "mn",
    "mo",
    "ms",
    "mtext",
    "mspace",
    "msup",
    "msub",
    "msubsup",
    "mfrac",
    "msqrt",
    "mroot",
    "mfenced",
    "mtable",
    "mtr",
    "mtd",
    "munder",
    "mover",
    "munderover",
    "mstyle",
    "mpadded",
    "semantics",
    "annotation",
}
ALLOWED_TAGS = TEXT_TAGS | TABLE_TAGS | MATHML_TAGS | {"img", "a", "audio"}
# Tags whose `src` must be one of the test's own assets.
ASSET_TAGS = {"img", "audio"}
AUDIO_EXTENSIONS = {".mp3", ".ogg", ".oga", ".opus", ".wav", ".m4a", ".aac"}

ALLOWED_ATTRIBUTES: dict[str, set[str]] = {
    "*": {"lang", "title", "class"},
    "img": {"src", "alt", "width", "height"},
    "audio": {"src"},
    "a": {"href"},
    "th": {"scope", "colspan", "rowspan"},
    "td": {"colspan", "rowspan"},
    "col": {"span"},
    "colgroup": {"span"},
    "ol": {"start", "type"},
    "abbr": {"title"},
    "math": {"display"},
    "mo": {"stretchy", "fence", "separator"},
    "mfrac": {"linethickness"},
    "annotation": {"encoding"},
}
URL_SCHEMES = {"https", "mailto"}


def sanitise_html(
    html: str,
    *,
    asset_urls: Iterable[str] = (),
    rewrite: Mapping[str, str] | None = None,
) -> str:
    """Clean `html` for display inside a test.

    `asset_urls` are the image addresses the content may use (the test's own assets).
    `rewrite` maps an address as written by the author (a path inside the package, say
    "images/graph.png") to the asset address that replaces it.
    """
    allowed = set(asset_urls)
    rewrite = dict(rewrite or {})

    def attribute_filter(tag: str, attribute: str, value: str) -> str | None:
        if tag in ASSET_TAGS and attribute == "src":
            if value in rewrite:
                return rewrite[value]
            return value if value in allowed else None
        return value

    return nh3.clean(
        html or "",
        tags=ALLOWED_TAGS,
        clean_content_tags={"script", "style"},
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        attribute_filter=attribute_filter,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def image_sources(html: str) -> list[str]:
    """The `src` values of the images in `html`, in order (for checking references)."""
    return _sources(html, "img")


def audio_sources(html: str) -> list[str]:
    """The `src` values of the sounds in `html`, in order."""
    return _sources(html, "audio")


def _sources(html: str, tag_name: str) -> list[str]:
    found: list[str] = []

    def collect(tag: str, attribute: str, value: str) -> str | None:
        if tag == tag_name and attribute == "src":
            found.append(value)
        return value

    nh3.clean(html or "", tags={tag_name}, attributes={tag_name: {"src"}}, attribute_filter=collect)
    return found
