"""The unit dashboard's panel of the organiser's follow-up requests (schools.dashboard)."""

from __future__ import annotations

from results.measures import follow_up_requests_for_unit
from results.models import FollowUpAnswer
from results.selectors import follow_up_counts_of
from schools.roles import Capability


def follow_up_panel(request, unit, capabilities) -> dict | None:
    """For those who see the whole unit's results: each request, the counts from the measures
    recorded now, and whether (and what) the school answered."""
    if Capability.VIEW_ALL_RESULTS not in capabilities:
        return None
    requests = list(follow_up_requests_for_unit(unit=unit)[:10])
    if not requests:
        return None
    answers = {
        a.request_id: a
        for a in FollowUpAnswer.objects.filter(school_unit=unit, request__in=requests)
    }
    counts = follow_up_counts_of(school_unit=unit, requests=requests)
    return {
        "requests": [
            {
                "request": r,
                "answer": answers.get(r.id),
                "counts": counts[r.id],
            }
            for r in requests
        ]
    }
