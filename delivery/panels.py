"""The delivery app's panel on a school unit's dashboard (schools.dashboard)."""

from __future__ import annotations

from delivery import selectors
from schools.roles import Capability


def todays_sittings_panel(request, unit, capabilities) -> dict | None:
    """Today's sittings for those who may proctor at the unit; hidden for everyone else."""
    if Capability.PROCTOR not in capabilities:
        return None
    return {"sittings": selectors.todays_sittings_for(user=request.user, school_unit=unit)}
