"""Hostile zip archives for the tests of spreadsheet and package checks."""

from __future__ import annotations

import struct


def understate_entry(data: bytes, name: str) -> bytes:
    """Rewrite the uncompressed size of `name` in its local and central headers to 100."""
    raw = bytearray(data)
    encoded = name.encode()
    local = raw.find(b"PK\x03\x04")
    while local != -1:
        name_len = struct.unpack_from("<H", raw, local + 26)[0]
        if raw[local + 30 : local + 30 + name_len] == encoded:
            struct.pack_into("<I", raw, local + 22, 100)
        local = raw.find(b"PK\x03\x04", local + 4)
    central = raw.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", raw, central + 28)[0]
        if raw[central + 46 : central + 46 + name_len] == encoded:
            struct.pack_into("<I", raw, central + 24, 100)
        central = raw.find(b"PK\x01\x02", central + 4)
    return bytes(raw)
