"""Benchmark of result exports and parent letters: `python -m bench.export`.

Seeds one unit with N students (10,000 by default) who sat a three-part test, computes the
results, reads the unit's result table as a head teacher's export would, then times the CSV
(streamed lines joined), the XLSX (openpyxl write-only) and parent letters (WeasyPrint, one PDF
for a batch of `--letters` students). The last line printed is one JSON object.

Uses DATABASE_URL when set, else recreates `pp_bench_export` on BENCH_PG_ADMIN_URL's server.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--letters", type=int, default=50)
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "provplattform.settings")
    if "DATABASE_URL" not in os.environ:
        from bench.common import recreate_database

        os.environ["DATABASE_URL"] = recreate_database("pp_bench_export")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from bench.results import _seed
    from results import exports, letters, selectors
    from results.services import results_compute
    from results.visibility import ResultScope

    call_command("migrate", verbosity=0, interactive=False)
    unit, test = _seed(args.rows, 30)
    result_set = results_compute(school_unit=unit, test=test)
    scope = ResultScope(unit, True, True, frozenset())  # a head teacher's

    started = time.perf_counter()
    table = selectors.result_table(scope=scope, result_set=result_set)
    table_s = time.perf_counter() - started
    assert len(table.rows) == args.rows

    started = time.perf_counter()
    size = sum(len(line) for line in exports.csv_lines(exports.all_rows(table, what="bench")))
    csv_s = time.perf_counter() - started

    started = time.perf_counter()
    xlsx = exports.xlsx_bytes(exports.all_rows(table, what="bench"))
    xlsx_s = time.perf_counter() - started

    batch = letters.letter_rows(table, include_just_above=True)[: args.letters]
    started = time.perf_counter()
    pdf = letters.letters_pdf(letters.letters_html(table, batch, languages={}))
    letters_s = time.perf_counter() - started

    result = {
        "rows": args.rows,
        "table_s": round(table_s, 3),
        "csv_s": round(csv_s, 3),
        "csv_mb": round(size / 1e6, 2),
        "xlsx_s": round(xlsx_s, 3),
        "xlsx_mb": round(len(xlsx) / 1e6, 2),
        "letters": len(batch),
        "pdf_letters_per_s": round(len(batch) / letters_s, 1),
        "pdf_kb_per_letter": round(len(pdf) / 1e3 / max(len(batch), 1), 1),
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
