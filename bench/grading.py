"""Grading benchmark: `python -m bench.grading [--students N] [--items N] [--assessors N]`.

Migrates a fresh PostgreSQL database (pp_bench_grading) and seeds a populated platform: the
measured school unit with N students who submitted a subtest of person-graded items (one Score
row per response, 1,000 × 30 by default), assessors who teach groups of them, and other
organisers' units with their own submitted attempts, scores and assignments (half assessed).

1. Distribution: `distribution_confirm` as the lead (recompute the responses inside the
   transaction, the pure core, the bulk insert, the audit row), timed end to end; then, in the
   same run, a bare bulk insert of exactly the same assignment rows (rolled back) as the baseline.
2. Score saves: a uvicorn server (2 workers) and N concurrent assessors, each logged in with its
   own session, saving its own assigned responses over HTTP (PUT with the version, as the desk's
   page does) with a short think time between saves. Afterwards every acknowledged save is checked
   against the database (`lost`).
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import random
import secrets
import time
import uuid

from bench import common

DB_NAME = "pp_bench_grading"


def _unit(tag: str, organiser_name: str):
    from schools.models import Organiser, SchoolUnit

    organiser = Organiser.objects.create(external_id=f"org-{tag}", name=organiser_name)
    return SchoolUnit.objects.create(
        organiser=organiser,
        external_id=f"u-{tag}",
        name=f"Skola {tag}",
        school_unit_code=str(uuid.uuid4().int)[:10],
    )


def seed_unit(*, tag: str, students: int, items: int, assessors: int, test=None) -> dict:
    """A unit whose students all submitted a subtest of `items` extended-text items."""
    from django.utils import timezone

    from delivery.models import Attempt, AttemptStatus
    from exams.models import Item, ItemKind, Room, Sitting, Subtest, TestDefinition
    from grading.models import Score, ScoreSource
    from provplattform.bulk import bulk_insert
    from schools.models import Duty, Enrolment, Person, TeachingGroup, User
    from schools.roles import Role
    from schools.services import role_assign

    unit = _unit(tag, f"Huvudman {tag}")
    today = timezone.localdate()
    if test is None:
        test = TestDefinition.objects.create(
            code=f"bench-{tag}",
            programme="se_national",
            title="Bench",
            subject="Svenska",
            grade=9,
            status="published",
            window_start=today - datetime.timedelta(days=1),
            window_end=today + datetime.timedelta(days=1),
        )
    subtest = Subtest.objects.create(test=test, code=f"B{tag}", title=f"Delprov {tag}")
    rng = random.Random(tag)
    item_rows = Item.objects.bulk_create(
        [
            Item(
                subtest=subtest,
                position=i,
                identifier=f"i{i}",
                kind=ItemKind.EXTENDED_TEXT,
                max_points=rng.randint(1, 4),
                content_html="<p>Skriv</p>",
            )
            for i in range(items)
        ]
    )
    room = Room.objects.create(school_unit=unit, name="Aulan")
    sitting = Sitting.objects.create(
        school_unit=unit, subtest=subtest, room=room, starts_at=timezone.now()
    )
    persons = Person.objects.bulk_create(
        [
            Person(
                organiser=unit.organiser,
                external_id=f"{tag}-s{n}",
                given_name=f"Elev{n}",
                family_name="Bench",
            )
            for n in range(students)
        ]
    )
    Enrolment.objects.bulk_create(
        [Enrolment(person=p, school_unit=unit, school_year=9) for p in persons]
    )
    staff = []
    for n in range(assessors):
        person = Person.objects.create(
            organiser=unit.organiser, external_id=f"{tag}-t{n}", given_name=f"Lärare{n}"
        )
        Duty.objects.create(
            person=person, school_unit=unit, external_id=f"{tag}-d{n}", duty_role="Lärare"
        )
        user = User.objects.create(username=f"{tag}-t{n}", person=person)
        role_assign(actor=None, person=person, school_unit=unit, role=Role.TEACHER)
        staff.append(user)
        group = TeachingGroup.objects.create(
            school_unit=unit, external_id=f"{tag}-g{n}", name=f"9{n}", school_year=9
        )
        group.members.add(*persons[n::assessors])
        group.teachers.add(person)
    lead_person = Person.objects.create(
        organiser=unit.organiser, external_id=f"{tag}-lead", given_name="Ledare"
    )
    Duty.objects.create(
        person=lead_person, school_unit=unit, external_id=f"{tag}-dl", duty_role="Rektor"
    )
    lead = User.objects.create(username=f"{tag}-lead", person=lead_person)
    role_assign(actor=None, person=lead_person, school_unit=unit, role=Role.ASSESSMENT_LEAD)
    now = timezone.now()
    bulk_insert(
        Attempt,
        [
            Attempt(
                public_id=uuid.uuid4(),
                sitting=sitting,
                person=p,
                status=AttemptStatus.SUBMITTED,
                released_at=now,
                started_at=now,
                submitted_at=now,
                duration_seconds=3600,
            )
            for p in persons
        ],
    )
    attempt_ids = list(Attempt.objects.filter(sitting=sitting).values_list("pk", flat=True))
    bulk_insert(
        Score,
        [
            Score(
                public_id=uuid.uuid4(),
                attempt_id=a,
                item=item,
                source=ScoreSource.PERSON,
                criteria_points={},
            )
            for a in attempt_ids
            for item in item_rows
        ],
    )
    return {"unit": unit, "subtest": subtest, "staff": staff, "lead": lead}


def seed_others(*, organisers: int, students: int, items: int, assessors: int) -> None:
    """Other organisers' units, distributed, half of their responses assessed."""
    from grading import distribution_services as ds
    from grading.models import Score, ScoreSource

    for n in range(organisers):
        seeded = seed_unit(tag=f"other{n}", students=students, items=items, assessors=assessors)
        choice = ds.choice_from(
            school_unit=seeded["unit"],
            subtest=seeded["subtest"],
            assessor_ids=[u.person.public_id for u in seeded["staff"]],
        )
        ds.distribution_confirm(
            actor=seeded["lead"],
            school_unit=seeded["unit"],
            subtest=seeded["subtest"],
            choice=choice,
        )
        ids = list(
            Score.objects.filter(attempt__sitting__subtest=seeded["subtest"]).values_list(
                "pk", flat=True
            )
        )
        Score.objects.filter(pk__in=ids[::2]).update(points=1, source=ScoreSource.PERSON, version=1)


def measure_distribution(seeded: dict) -> dict:
    from django.db import connection, transaction

    from grading import distribution_services as ds
    from grading.models import GradingAssignment
    from provplattform.bulk import bulk_insert

    choice = ds.choice_from(
        school_unit=seeded["unit"],
        subtest=seeded["subtest"],
        assessor_ids=[u.person.public_id for u in seeded["staff"]],
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    # The preview in the other modes (nothing stored): the pure core on 30,000 single responses.
    previews = {}
    for mode in ("by_item", "mixed"):
        other = ds.choice_from(
            school_unit=seeded["unit"],
            subtest=seeded["subtest"],
            assessor_ids=[u.person.public_id for u in seeded["staff"]],
            mode=mode,
            by_item_ids=list(seeded["subtest"].items.values_list("public_id", flat=True)[::2]),
            own_groups="avoid",
        )
        t0 = time.perf_counter()
        preview = ds.distribution_preview(
            actor=seeded["lead"],
            school_unit=seeded["unit"],
            subtest=seeded["subtest"],
            choice=other,
        )
        previews[f"preview_{mode}_avoid_s"] = round(time.perf_counter() - t0, 3)
        previews[f"preview_{mode}_spread_points"] = preview.spread
    t0 = time.perf_counter()
    plan = ds.distribution_confirm(
        actor=seeded["lead"], school_unit=seeded["unit"], subtest=seeded["subtest"], choice=choice
    )
    distribute_s = time.perf_counter() - t0
    rows = list(GradingAssignment.objects.filter(plan=plan).values_list("score_id", "assessor_id"))
    loads = ds.selectors.progress_by_assessor(school_unit=seeded["unit"], subtest=seeded["subtest"])
    with transaction.atomic():
        GradingAssignment.objects.filter(plan=plan).delete()
        t0 = time.perf_counter()
        bulk_insert(
            GradingAssignment,
            [
                GradingAssignment(public_id=uuid.uuid4(), plan=plan, score_id=s, assessor_id=a)
                for s, a in rows
            ],
        )
        baseline_s = time.perf_counter() - t0
        transaction.set_rollback(True)
    spread = max(r["load"] for r in loads) - min(r["load"] for r in loads)
    return {
        "distribute_s": round(distribute_s, 3),
        "baseline_insert_s": round(baseline_s, 3),
        "distribute_ratio": round(distribute_s / baseline_s, 2) if baseline_s else None,
        "assigned": len(rows),
        "load_spread_points": spread,
        **previews,
    }


# --- score saves over HTTP ---------------------------------------------------------------------


def sessions_for(users) -> list[tuple[str, str]]:
    """(session cookie, csrf secret) per user, made as a login would make them."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    out = []
    for user in users:
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.save()
        out.append((session.session_key, secrets.token_hex(16)))
    return out


async def _request(reader, writer, raw: bytes) -> tuple[int, bytes]:
    writer.write(raw)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    length = 0
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value)
    body = await reader.readexactly(length) if length else b""
    return status, body


class Stats:
    def __init__(self):
        self.latencies: list[float] = []
        self.warmup: list[float] = []  # saves started before the measured window
        self.acked: dict[str, tuple[int, int]] = {}  # score id -> (version, points)
        self.errors = 0
        self.conflicts = 0


async def assessor(port, unit, session, scores, stop_at, measure_from, think_s, stats: Stats, rng):
    cookie, csrf = session
    versions = dict.fromkeys(scores, 0)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    index = 0
    while time.monotonic() < stop_at:
        score = scores[index % len(scores)]
        index += 1
        points = rng.randint(0, 1)
        body = json.dumps({"points": points, "comment": "", "version": versions[score]}).encode()
        raw = (
            f"PUT /api/v1/units/{unit}/desk/scores/{score}/ HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
            f"Cookie: sessionid={cookie}; csrftoken={csrf}\r\nX-CSRFToken: {csrf}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode() + body
        started = time.perf_counter()
        try:
            status, payload = await _request(reader, writer, raw)
        except (OSError, asyncio.IncompleteReadError):
            stats.errors += 1
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            continue
        if status == 200:
            took = time.perf_counter() - started
            (stats.latencies if time.monotonic() - took >= measure_from else stats.warmup).append(
                took
            )
            data = json.loads(payload)
            versions[score] = data["version"]
            stats.acked[score] = (data["version"], data["points"])
        elif status == 409:
            stats.conflicts += 1
            versions[score] = json.loads(payload)["current"]["version"]
        else:
            stats.errors += 1
        if think_s:
            await asyncio.sleep(rng.uniform(0, 2 * think_s))
    writer.close()


async def load(port, unit, sessions, scores_of, seconds, think_s, warmup_s) -> tuple[Stats, float]:
    """All assessors start at once; saves started in the first `warmup_s` (each web process
    opening its connections) are kept apart from the measured window that follows."""
    rng = random.Random(11)
    stats = Stats()
    t0 = time.monotonic()
    measure_from = t0 + warmup_s
    await asyncio.gather(
        *(
            assessor(
                port,
                unit,
                s,
                scores_of[i],
                measure_from + seconds,
                measure_from,
                think_s,
                stats,
                rng,
            )
            for i, s in enumerate(sessions)
        )
    )
    return stats, time.monotonic() - measure_from


def lost_scores(acked: dict[str, tuple[int, int]]) -> int:
    from grading.models import Score

    held = {
        str(p): (v, pts)
        for p, v, pts in Score.objects.filter(public_id__in=list(acked)).values_list(
            "public_id", "version", "points"
        )
    }
    return sum(1 for key, value in acked.items() if held.get(key) != value)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--assessors", type=int, default=40)
    parser.add_argument("--other-organisers", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--think-ms", type=float, default=250.0)
    parser.add_argument(
        "--warmup-s", type=float, default=2.0, help="saves first, reported apart (warmup_*)"
    )
    parser.add_argument("--database", default=DB_NAME, help="dropped and created afresh")
    args = parser.parse_args()

    url = common.recreate_database(args.database)
    env = common.bench_env(url, DB_CONN_MAX_AGE="0")
    os.environ.update(env)
    common.manage(env, "migrate", "--noinput")
    import django

    django.setup()
    from django.db import connection

    from grading.models import GradingAssignment

    seed_others(
        organisers=args.other_organisers,
        students=args.students // 2,
        items=args.items,
        assessors=max(2, args.assessors // 4),
    )
    seeded = seed_unit(
        tag="measured", students=args.students, items=args.items, assessors=args.assessors
    )
    result = {"responses": args.students * args.items, "assessors": args.assessors}
    result.update(measure_distribution(seeded))

    sessions = sessions_for(seeded["staff"])
    scores_of = []
    for user in seeded["staff"]:
        mine = list(
            GradingAssignment.objects.filter(assessor=user.person).values_list(
                "score__public_id", flat=True
            )
        )
        scores_of.append([str(s) for s in mine])
    unit = str(seeded["unit"].public_id)
    connection.close()
    health = f"/api/v1/units/{unit}/grading/subtests/"
    with common.running(
        common.start_uvicorn(env=env, workers=2, health_path=health, name="grading")
    ) as server:
        stats, wall = asyncio.run(
            load(
                server.port,
                unit,
                sessions,
                scores_of,
                args.seconds,
                args.think_ms / 1000,
                args.warmup_s,
            )
        )
    lost = lost_scores(stats.acked)
    result.update(
        {
            "seconds": args.seconds,
            "think_ms": args.think_ms,
            "score_saves": len(stats.latencies),
            "score_saves_per_s": round(len(stats.latencies) / wall, 1),
            "score_p50_ms": round(common.percentile(stats.latencies, 50) * 1000, 1),
            "score_p99_ms": round(common.percentile(stats.latencies, 99) * 1000, 1),
            "warmup_s": args.warmup_s,
            "warmup_saves": len(stats.warmup),
            "warmup_p99_ms": round(common.percentile(stats.warmup, 99) * 1000, 1)
            if stats.warmup
            else None,
            "conflicts": stats.conflicts,
            "errors": stats.errors,
            "acked_scores_checked": len(stats.acked),
            "lost": lost,
        }
    )
    common.emit(result)


if __name__ == "__main__":
    main()
