"""Benchmark of the organiser's user transfer: `python -m bench.transfer`.

Generates an SS 12000 document (10,000 persons, 400 groups, 1,000 duties by default) and sends it
down the endpoint's own path — `transfer_submit` queues a TransferRun, the Celery job
(`schools.tasks.transfer_run`, run in-process here) executes it through `transfer_process` with
progress published to the cache — then submits it a second time (nothing may change). The last
line printed is one JSON object.

Like the other benchmarks it recreates a PostgreSQL database of its own (`pp_bench_transfer` on
BENCH_PG_ADMIN_URL's server) and uses BENCH_REDIS_URL, unless DATABASE_URL is set, e.g.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/pp_bench REDIS_URL=redis://127.0.0.1:6379/2 \
        python -m bench.transfer
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid

NAMESPACE = uuid.UUID("6f1c1a3e-8a57-4d6c-9d0e-3f6a5b2c7d10")
DUTY_ROLES = ["Lärare", "Lärare", "Lärare", "Förstelärare", "Rektor", "Skoladministratör",
              "Annan personal", "Kurator"]  # fmt: skip


TEACHING = ("Lärare", "Förstelärare")


def _id(kind: str, n: int, seed: str = "") -> str:
    return str(uuid.uuid5(NAMESPACE, f"{seed}{kind}-{n}"))


def _luhn_digit(nine: str) -> str:
    total = 0
    for index, char in enumerate(nine):
        value = int(char) * (2 if index % 2 == 0 else 1)
        total += value - 9 if value > 9 else value
    return str((10 - total % 10) % 10)


def civic_number(n: int, year: int = 2011) -> str:
    """A valid Swedish personnummer (12 digits), distinct for n < 365 * 1000."""
    month, day = 1 + (n // 28) % 12, 1 + n % 28
    serial = f"{(n // 336) % 1000:03d}"
    nine = f"{year % 100:02d}{month:02d}{day:02d}{serial}"
    return f"{year // 100}{nine}{_luhn_digit(nine)}"


def generate(
    *, persons: int = 10_000, groups: int = 400, duties: int = 1_000, units: int = 4, seed: str = ""
) -> dict:
    """An SS 12000 transfer document: `duties` staff (one duty each), the rest students."""
    unit_ids = [_id("unit", u, seed) for u in range(units)]
    organisations = [
        {
            "id": unit_ids[u],
            "displayName": f"Skola {u + 1}",
            "organisationType": "Skolenhet",
            "schoolUnitCode": f"{seed}{u:02d}",
            "schoolTypes": ["GR"],
        }
        for u in range(units)
    ]
    staff_count = min(duties, persons)
    people, duty_list = [], []
    for n in range(persons):
        pid = _id("person", n, seed)
        staff = n < staff_count
        person = {
            "id": pid,
            "givenName": f"Förnamn{n}",
            "familyName": f"Efternamn{n}",
            "eduPersonPrincipalNames": [f"{'staff' if staff else 'elev'}{n}{seed}@skola.example"],
            "civicNo": {"value": civic_number(n, 1980 if staff else 2011), "nationality": "SE"},
            "emails": [{"value": f"p{n}{seed}@skola.example", "type": "Skola elev"}],
            "securityMarking": "Skyddad folkbokföring" if n % 997 == 0 else "Ingen",
        }
        if not staff:
            person["enrolments"] = [
                {"enroledAt": {"id": unit_ids[n % units]}, "schoolType": "GR", "schoolYear": 9}
            ]
        people.append(person)
    for d in range(duties):
        duty_list.append(
            {
                "id": _id("duty", d, seed),
                "person": {"id": people[d % staff_count]["id"]},
                "dutyAt": {"id": unit_ids[d % units]},
                "dutyRole": DUTY_ROLES[d % len(DUTY_ROLES)],
            }
        )
    students = people[staff_count:]
    members_of: list[list[str]] = [[] for _ in range(groups)]
    for i, s in enumerate(students):
        if groups:
            members_of[i % groups].append(s["id"])
    teachers_at = [
        [d for d in range(duties) if d % units == u and duty_list[d]["dutyRole"] in TEACHING]
        for u in range(units)
    ]
    group_list, activities = [], []
    for g in range(groups):
        unit = g % units
        members = members_of[g]
        group_list.append(
            {
                "id": _id("group", g, seed),
                "displayName": f"9{chr(65 + g % 26)}{g}",
                "groupType": "Undervisning",
                "schoolType": "GR",
                "organisation": {"id": unit_ids[unit]},
                "groupMemberships": [
                    {"id": _id("member", g * 100000 + i, seed), "person": {"id": m}}
                    for i, m in enumerate(members)
                ],
            }
        )
        teachers = teachers_at[unit]
        activities.append(
            {
                "id": _id("activity", g, seed),
                "displayName": f"Undervisning {g}",
                "activityType": "Undervisning",
                "groups": [{"id": _id("group", g, seed)}],
                "teachers": [{"duty": {"id": duty_list[teachers[g % len(teachers)]]["id"]}}]
                if teachers
                else [],
                "organisation": {"id": unit_ids[unit]},
                "parentActivity": {"id": _id("parent", g, seed)},
            }
        )
    return {
        "organisations": organisations,
        "persons": people,
        "groups": group_list,
        "duties": duty_list,
        "activities": activities,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=10_000)
    parser.add_argument("--groups", type=int, default=400)
    parser.add_argument("--duties", type=int, default=1_000)
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the first run")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "provplattform.settings")
    if "DATABASE_URL" not in os.environ:
        from bench.common import REDIS_URL, recreate_database

        os.environ["DATABASE_URL"] = recreate_database("pp_bench_transfer")
        os.environ.setdefault("REDIS_URL", REDIS_URL)
    # The job runs in this process: the benchmark times the work, not a broker round trip.
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "true"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from schools.models import Organiser, TransferSource
    from schools.transfer.services import transfer_submit

    call_command("migrate", verbosity=0, interactive=False)
    seed = uuid.uuid4().hex[:8]
    organiser = Organiser.objects.create(external_id=f"bench-{seed}", name=f"Bench {seed}")
    document = json.dumps(
        generate(persons=args.persons, groups=args.groups, duties=args.duties, seed=seed)
    )
    print(f"database: {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}")
    print(f"document: {len(document) / 1e6:.1f} MB")

    def run() -> tuple[float, dict]:
        started = time.perf_counter()
        # As TransferSubmitView does; outside a transaction the job starts at once.
        queued = transfer_submit(
            organiser=organiser, source=TransferSource.API, payload={"text": document}
        )
        queued.refresh_from_db()
        elapsed = time.perf_counter() - started
        if queued.status not in ("applied", "rejected"):
            raise SystemExit(f"The run ended {queued.status}: {queued.report}")
        return elapsed, {"status": queued.status, **queued.report}

    if args.profile:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        profiler.enable()
    first_s, first = run()
    if args.profile:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(30)
    if first["status"] != "applied":
        print(json.dumps(first["rejected"][:10], ensure_ascii=False))
        raise SystemExit("The benchmark document was rejected.")
    second_s, second = run()
    changed = sum(c["created"] + c["updated"] + c["removed"] for c in second["counts"].values())
    print(f"first run:  {first_s:.2f} s  counts {json.dumps(first['counts']['persons'])}")
    print(f"second run: {second_s:.2f} s  changes {changed}")
    result = {
        "persons": args.persons,
        "groups": args.groups,
        "duties": args.duties,
        "seconds": round(first_s, 3),
        "persons_per_s": round(args.persons / first_s, 1),
        "second_run_seconds": round(second_s, 3),
        "second_run_changes": changed,
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
