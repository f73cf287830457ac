"""Small SS 12000 documents for the transfer tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from bench.transfer import civic_number

LOCAL_SAMPLES = Path(__file__).resolve().parent / "ss12000_samples"

UNIT = "11111111-1111-4111-8111-111111111111"
UNIT_2 = "11111111-1111-4111-8111-222222222222"


def sample(name: str) -> dict:
    """A file of Skolverket's SS 12000 sample data (a copy is kept next to the tests)."""
    path = LOCAL_SAMPLES / name
    return json.loads(path.read_text(encoding="utf-8"))


def person(pid: str, n: int, *, unit: str = UNIT, year: int = 9, staff: bool = False) -> dict:
    record = {
        "id": pid,
        "givenName": f"Förnamn{n}",
        "familyName": f"Efternamn{n}",
        "eduPersonPrincipalNames": [f"p{n}@skola.example"],
        "civicNo": {"value": civic_number(n, 1980 if staff else 2011)},
        "emails": [{"value": f"p{n}@skola.example", "type": "Skola elev"}],
    }
    if not staff:
        record["enrolments"] = [{"enroledAt": {"id": unit}, "schoolType": "GR", "schoolYear": year}]
    return record


def small_document(code: str = "41000001") -> dict:
    """One unit, a teacher, a head teacher, three students in one group taught by the teacher."""
    return copy.deepcopy(
        {
            "organisations": [
                {
                    "id": UNIT,
                    "displayName": "Ekskolan",
                    "organisationType": "Skolenhet",
                    "schoolUnitCode": code,
                    "schoolTypes": ["GR"],
                }
            ],
            "persons": [
                person("s1", 1),
                person("s2", 2),
                person("s3", 3),
                person("t1", 4, staff=True),
                person("h1", 5, staff=True),
            ],
            "groups": [
                {
                    "id": "g1",
                    "displayName": "9A",
                    "groupType": "Undervisning",
                    "schoolType": "GR",
                    "organisation": {"id": UNIT},
                    "groupMemberships": [
                        {"person": {"id": "s1"}},
                        {"person": {"id": "s2"}},
                        {"person": {"id": "s3"}},
                    ],
                }
            ],
            "duties": [
                {"id": "d1", "person": {"id": "t1"}, "dutyAt": {"id": UNIT}, "dutyRole": "Lärare"},
                {"id": "d2", "person": {"id": "h1"}, "dutyAt": {"id": UNIT}, "dutyRole": "Rektor"},
            ],
            "activities": [
                {
                    "id": "a1",
                    "displayName": "Matematik 9A",
                    "activityType": "Undervisning",
                    "groups": [{"id": "g1"}],
                    "teachers": [{"duty": {"id": "d1"}}],
                    "organisation": {"id": UNIT},
                    "parentActivity": {"id": "p1"},
                }
            ],
        }
    )
