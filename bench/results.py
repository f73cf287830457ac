"""Benchmark of result computation: `python -m bench.results`.

Seeds one school unit with N students (100,000 by default) who each sat a test of three subtests
with 30 items in all, every item scored, then times `results_compute` (scores → subtest and test
results, stored) against a baseline measured in the same run: one SQL GROUP BY over the same
scores, fetched. The last line printed is one JSON object.

Uses DATABASE_URL when set (PostgreSQL), else recreates `pp_bench_results` on BENCH_PG_ADMIN_URL's
server, e.g.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pp_results \
        python -m bench.results --students 10000
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time


def _seed(students: int, items: int) -> tuple:
    """Organiser, unit, test, sittings, persons, attempts and scores, written by the server."""
    from django.db import connection
    from django.utils import timezone

    from exams.models import ItemKind, Programme, Room, Sitting, Subtest, TestDefinition
    from schools.models import Organiser, SchoolUnit

    stamp = timezone.now()
    tag = f"{stamp:%H%M%S%f}"
    organiser = Organiser.objects.create(external_id=f"bench-{tag}", name=f"Bench {tag}")
    unit = SchoolUnit.objects.create(
        organiser=organiser, external_id=f"bench-{tag}", name="Benchskolan",
        school_unit_code=tag[-8:],
    )  # fmt: skip
    test = TestDefinition.objects.create(
        code=f"bench-{tag}", programme=Programme.NO_MAPPING, title="Bench", subject="Lesing",
        grade=2, window_start=stamp.date(), window_end=stamp.date(), concern_threshold=14,
    )  # fmt: skip
    room = Room.objects.create(school_unit=unit, name="Aula")
    per = [items // 3 + (1 if i < items % 3 else 0) for i in range(3)]
    sittings = []
    for index, count in enumerate(per):
        subtest = Subtest.objects.create(
            test=test, position=index, code=f"S{index}", title=f"Delprøve {index}",
            concern_threshold=count // 3,
        )  # fmt: skip
        subtest.items.bulk_create(
            [
                subtest.items.model(
                    subtest=subtest,
                    position=n,
                    identifier=f"i{n}",
                    kind=ItemKind.SINGLE_CHOICE,
                    max_points=1,
                    content_html="<p>?</p>",
                )
                for n in range(count)
            ]
        )
        sittings.append(
            Sitting.objects.create(school_unit=unit, subtest=subtest, room=room, starts_at=stamp)
        )
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO schools_person (public_id, created, modified, organiser_id, external_id,
                 given_name, family_name, civic_number, eppn, email, protected_identity)
               SELECT gen_random_uuid(), now(), now(), %s, 'p' || g, 'Elev', 'Nummer ' || g,
                 '', '', '', false FROM generate_series(1, %s) g""",
            [organiser.id, students],
        )
        cursor.execute(
            """INSERT INTO schools_enrolment (public_id, created, modified, person_id,
                 school_unit_id, external_id, school_type, school_year)
               SELECT gen_random_uuid(), now(), now(), p.id, %s, '', 'GR', 2
               FROM schools_person p WHERE p.organiser_id = %s""",
            [unit.id, organiser.id],
        )
        for sitting in sittings:
            cursor.execute(
                """INSERT INTO delivery_attempt (public_id, created, modified, sitting_id,
                     person_id, status, duration_seconds, extended_seconds, added_seconds,
                     paused_seconds, auto_submitted, device_token, device_label)
                   SELECT gen_random_uuid(), now(), now(), %s, p.id, 'submitted', 0, 0, 0, 0,
                     false, '', '' FROM schools_person p WHERE p.organiser_id = %s""",
                [sitting.id, organiser.id],
            )
        cursor.execute(
            """INSERT INTO grading_score (public_id, created, modified, attempt_id, item_id, points,
                 criteria_points, comment, source, version)
               SELECT gen_random_uuid(), now(), now(), a.id, i.id, (random() < 0.7)::int,
                 '{}', '', 'machine', 0
               FROM delivery_attempt a JOIN exams_sitting s ON s.id = a.sitting_id
               JOIN exams_item i ON i.subtest_id = s.subtest_id
               WHERE s.school_unit_id = %s""",
            [unit.id],
        )
        cursor.execute("ANALYZE")
    return unit, test


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the run")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "provplattform.settings")
    if "DATABASE_URL" not in os.environ:
        from bench.common import recreate_database

        os.environ["DATABASE_URL"] = recreate_database("pp_bench_results")
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from results.models import SubtestResult, TestResult
    from results.services import results_compute

    call_command("migrate", verbosity=0, interactive=False)
    started = time.perf_counter()
    unit, test = _seed(args.students, args.items)
    print(f"seeded {args.students} students × {args.items} items in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT a.id, sum(sc.points), count(*) FILTER (WHERE sc.points IS NULL), count(*)
               FROM grading_score sc JOIN delivery_attempt a ON a.id = sc.attempt_id
               JOIN exams_sitting s ON s.id = a.sitting_id
               WHERE s.school_unit_id = %s GROUP BY a.id""",
            [unit.id],
        )
        baseline_rows = len(cursor.fetchall())
    baseline_s = time.perf_counter() - started

    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    started = time.perf_counter()
    result_set = results_compute(school_unit=unit, test=test)
    seconds = time.perf_counter() - started
    if args.profile:
        import pstats
        import sys

        profiler.disable()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(30)
    tests = TestResult.objects.filter(result_set=result_set).count()
    parts = SubtestResult.objects.filter(result_set=result_set).count()
    assert tests == args.students and parts == 3 * args.students, (tests, parts)
    assert baseline_rows == 3 * args.students

    started = time.perf_counter()
    again = results_compute(school_unit=unit, test=test)
    unchanged_s = time.perf_counter() - started
    assert again.version == result_set.version  # nothing changed, no new version

    result = {
        "students": args.students,
        "items": args.items,
        "seconds": round(seconds, 3),
        "baseline_seconds": round(baseline_s, 3),
        "ratio": round(seconds / baseline_s, 2),
        "unchanged_recompute_seconds": round(unchanged_s, 3),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
