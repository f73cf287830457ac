"""The demo seeders, in order. Each takes the result dict of the steps before it and returns a
dict whose keys are merged into it. Any key ending in "logins" (a list of dicts) is printed as a
table by `seed_demo`. Optional steps run only when their module exists."""

from __future__ import annotations

import importlib
import importlib.util

SEEDERS = [
    "schools.demo.seed_schools",
    "exams.demo.seed_exams",
    "delivery.demo.seed_delivery",
]
OPTIONAL = {"exams.demo.seed_exams", "delivery.demo.seed_delivery"}


def _module_exists(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def run_seeders(*, out=None) -> dict:
    result: dict = {}
    for dotted in SEEDERS:
        module_name, function_name = dotted.rsplit(".", 1)
        if dotted in OPTIONAL and not _module_exists(module_name):
            continue
        seeder = getattr(importlib.import_module(module_name), function_name)
        result = {**result, **(seeder(result) or {})}
        if out is not None:
            out.write(f"  {dotted}: done")
    return result
