"""Letters to parents of students who need follow-up: PDF through WeasyPrint from a template.

A letter states each subtest's result in plain words — the points, the concern threshold, below
or above it — and the measures the school chose. No praise for full marks and no ranking: the
letter never mentions another student, the group or the school's figures. Each student's letter is
in the language chosen for that student (Swedish, Norwegian Bokmål or English); a batch is one PDF
with a page break between students, made by a worker with progress (results.jobs).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.template.loader import render_to_string
from django.utils import timezone, translation

from provplattform.audit import AuditAction, audit_record
from results.models import Band, Measure
from results.selectors import ResultTable, StudentRow

if TYPE_CHECKING:
    from schools.models import User

LANGUAGES = ("sv", "nb", "en")


def default_language(school_unit) -> str:
    return "nb" if getattr(school_unit.organiser, "country", "") == "NO" else "sv"


def needs_letter(row: StudentRow, *, include_just_above: bool) -> bool:
    bands = {c["band"] for c in row.subtests if c["complete"]} | {row.band}
    return Band.BELOW in bands or (include_just_above and Band.JUST_ABOVE in bands)


def letter_rows(table: ResultTable, *, include_just_above: bool) -> list[StudentRow]:
    return [r for r in table.rows if needs_letter(r, include_just_above=include_just_above)]


def _measures_by_person(table: ResultTable, person_ids: Iterable[int]) -> dict[int, list]:
    found: dict[int, list] = {}
    for measure in (
        Measure.objects.filter(
            school_unit=table.result_set.school_unit,
            subtest__in=table.subtests,
            person_id__in=list(person_ids),
        )
        .select_related("kind", "subtest")
        .order_by("starts_on", "id")
    ):
        found.setdefault(measure.person_id, []).append(measure)
    return found


def letters_html(
    table: ResultTable,
    rows: list[StudentRow],
    *,
    languages: dict[str, str],
    progress: Callable[[int], None] | None = None,
) -> str:
    """One HTML document: a letter per student, each in its own language."""
    measures = _measures_by_person(table, [r.person_id for r in rows])
    unit = table.result_set.school_unit
    fallback = default_language(unit)
    parts = []
    for index, row in enumerate(rows, start=1):
        language = languages.get(row.public_id) or fallback
        with translation.override(language if language in LANGUAGES else fallback):
            parts.append(
                render_to_string(
                    "results/letter.html",
                    {
                        "row": row,
                        "test": table.test,
                        "unit": unit,
                        "measures": measures.get(row.person_id, []),
                        "version": table.result_set.version,
                        "today": timezone.localdate(),
                    },
                )
            )
        if progress:
            progress(index)
    return render_to_string("results/letters.html", {"letters": parts})


LETTERS_CSS = "css/letters.css"


def letters_stylesheet() -> str:
    """The letters' stylesheet on disk: the source folder's copy, else the collected one."""
    found = finders.find(LETTERS_CSS)
    return str(found) if found else staticfiles_storage.path(LETTERS_CSS)


def letters_pdf(html: str) -> bytes:
    """The letters as one PDF. The stylesheet is a static file given to WeasyPrint here, so the
    template holds no inline style (the policy every template keeps, page or not)."""
    from weasyprint import CSS, HTML  # noqa: PLC0415 - heavy (loads pango); only when printing letters

    return HTML(string=html).write_pdf(stylesheets=[CSS(filename=letters_stylesheet())])


def letters_audit(*, actor: User, table: ResultTable, rows: list[StudentRow], what: str) -> None:
    audit_record(
        actor=actor,
        action=AuditAction.RESULTS_LETTERS_GENERATED,
        target=table.result_set,
        scope=table.result_set.school_unit,
        after={"what": what, "students": len(rows), "version": table.result_set.version},
    )
