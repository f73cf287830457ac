"""Codes that stand for students in anonymous mode: one per student and subtest.

A code is derived (a keyed hash of the subtest and the student), so it needs no storage, is the
same on every page and for every assessor of the subtest, and says nothing about the student or
about the same student's code in another subtest.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

# Crockford's base-32 alphabet without the letters people misread (I, L, O, U).
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def student_code(*, subtest_public_id: object, person_public_id: object) -> str:
    """E.g. "K7Q-4M2": 30 bits, ample for the students of one subtest at one school."""
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"student-code:{subtest_public_id}:{person_public_id}".encode(),
        hashlib.sha256,
    ).digest()
    number = int.from_bytes(digest[:4], "big") >> 2
    chars = []
    for _ in range(6):
        number, index = divmod(number, 32)
        chars.append(_ALPHABET[index])
    return "".join(chars[:3]) + "-" + "".join(chars[3:])
