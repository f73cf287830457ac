"""Students whose results are out of date, kept in Redis until one job recomputes them.

A score save must stay cheap: instead of queueing a Celery job per save (a broker round trip and
a few milliseconds of CPU each), a changed score adds its students to a set per school unit and
subtest, and only the first change of a burst queues the job (`results.tasks.recompute_dirty`,
after `RESULTS_RECOMPUTE_DELAY_S`). The job takes the set as a whole and recomputes those
students; a change made meanwhile lands in a fresh set and queues the next job. Nothing here
touches the database. Without Redis (the embedded mode) `mark` answers False and the caller
queues the recomputation directly, as before.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings

from provplattform.logs import warn_every

log = logging.getLogger(__name__)

# A queued job that never ran (a worker lost) stops holding back new jobs after this long.
QUEUED_TTL_S = 300
DIRTY_TTL_S = 7 * 24 * 3600

_client = None


def _redis():
    global _client
    if _client is None:
        import redis  # noqa: PLC0415 - optional: only with Redis configured

        _client = redis.Redis.from_url(
            settings.REDIS_URL, socket_timeout=0.5, socket_connect_timeout=0.5
        )
    return _client


def _keys(school_unit_id: int, subtest_id: int) -> tuple[str, str]:
    prefix = settings.CACHES["default"].get("KEY_PREFIX", "pp")
    base = f"{prefix}:results:{school_unit_id}:{subtest_id}"
    return f"{base}:dirty", f"{base}:queued"


def mark(*, school_unit_id: int, subtest_ids: Iterable[int], person_ids: Iterable[int]) -> bool:
    """Note the students as out of date and queue a job per subtest none is queued for yet.
    False when Redis is not configured or did not answer (nothing is then promised)."""
    from results.tasks import recompute_dirty  # noqa: PLC0415 - tasks import services: a cycle

    if not settings.REDIS_URL:
        return False
    persons = sorted(set(person_ids))
    subtests = sorted(set(subtest_ids))
    try:
        pipe = _redis().pipeline(transaction=False)
        for subtest_id in subtests:
            dirty, queued = _keys(school_unit_id, subtest_id)
            pipe.sadd(dirty, *persons)
            pipe.expire(dirty, DIRTY_TTL_S)
            pipe.set(queued, 1, nx=True, ex=QUEUED_TTL_S)
        answers = pipe.execute()
    except Exception:  # redis' error types, OSError
        warn_every(log, "results-dirty", "results not marked out of date in Redis")
        return False
    for n, subtest_id in enumerate(subtests):
        if answers[3 * n + 2]:  # this change opened the burst: queue its job
            _queue(school_unit_id=school_unit_id, subtest_id=subtest_id, task=recompute_dirty)
    return True


def _queue(*, school_unit_id: int, subtest_id: int, task) -> None:
    job = {"school_unit_id": school_unit_id, "subtest_id": subtest_id}
    try:
        task.apply_async(kwargs=job, countdown=settings.RESULTS_RECOMPUTE_DELAY_S)
        return
    except Exception:  # the broker away, or (eagerly run) the computation failed
        warn_every(log, "results-queue", "results recomputation not queued; computing in place")
    # As results.services does while the broker is away: the few students of this change are
    # computed here, so the save stands and its result is not left waiting for the next one.
    try:
        task(**job)
    except Exception:
        warn_every(log, "results-inline", "results recomputation failed; the next change redoes it")
        try:
            _redis().delete(_keys(school_unit_id, subtest_id)[1])
        except Exception:
            warn_every(log, "results-dirty", "results not marked out of date in Redis")


def take(*, school_unit_id: int, subtest_id: int) -> list[int]:
    """The students noted since the last job, removed from the set (the job's first step).
    The queued mark goes first, so a change from now on queues the next job."""
    dirty, queued = _keys(school_unit_id, subtest_id)
    client = _redis()
    client.delete(queued)
    pipe = client.pipeline(transaction=True)
    pipe.smembers(dirty)
    pipe.delete(dirty)
    members, _deleted = pipe.execute()
    return sorted(int(m) for m in members)
