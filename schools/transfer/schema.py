"""The SS 12000 JSON Schemas (Skolverket, Apache-2.0), compiled once into record validators.

Every `$ref` is resolved from the local copies in `schools/ss12000_schema/`; nothing is fetched.
Validation runs per record so a rejection names the record, the field and the reason. A record is
first checked by a compiled boolean check (plain Python closures built from the schema, the same
Draft 2020-12 keywords the schemas use); only a record that fails it is run through the full
jsonschema validator to produce the messages. The two are kept in step by a test that compares
them on valid and broken records.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from schools.transfer.limits import stored_value_errors

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "ss12000_schema"

# Record kind in a transfer document -> the $id of the schema for one record.
RECORD_SCHEMAS = {
    "organisations": "/schemas/organisation",
    "persons": "/schemas/person",
    "groups": "/schemas/group",
    "duties": "/schemas/duty",
    "activities": "/schemas/activity",
}


@cache
def _schemas() -> dict[str, dict]:
    schemas = {}
    for path in sorted(SCHEMA_DIR.glob("*.schema.json")):
        schema = json.loads(path.read_text(encoding="utf-8"))
        schemas[schema["$id"]] = schema
    return schemas


@cache
def registry() -> Registry:
    return Registry().with_resources(
        (schema_id, Resource.from_contents(schema, default_specification=DRAFT202012))
        for schema_id, schema in _schemas().items()
    )


@cache
def full_validator(kind: str) -> Draft202012Validator:
    """The jsonschema validator for one record of `kind` (explains what is wrong)."""
    schema = _schemas()[RECORD_SCHEMAS[kind]]
    return Draft202012Validator(schema, registry=registry())


# --- compiled boolean check -----------------------------------------------------------------------

Check = Callable[[Any], bool]

_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}
_SUPPORTED = {
    "$schema",
    "$id",
    "title",
    "description",
    "type",
    "properties",
    "required",
    "items",
    "minItems",
    "enum",
    "const",
    "minimum",
    "maximum",
    "$ref",
    "allOf",
    "if",
    "then",
    "format",
}


def _equal(a: Any, b: Any) -> bool:
    # JSON equality: 1 == 1.0 but True != 1.
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return a == b


def _compile(schema: dict, refs: dict[str, Check]) -> Check:
    unknown = set(schema) - _SUPPORTED
    if unknown:
        raise ValueError(f"Keywords not compiled: {sorted(unknown)}")
    checks: list[Check] = []
    if "$ref" in schema:
        target = schema["$ref"]

        def check_ref(value, _target=target):
            return refs[_target](value)

        checks.append(check_ref)
    if "type" in schema:
        types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        type_checks = [_TYPES[t] for t in types]
        checks.append(lambda v: any(t(v) for t in type_checks))
    if "enum" in schema:
        options = schema["enum"]
        checks.append(lambda v: any(_equal(v, o) for o in options))
    if "const" in schema:
        const = schema["const"]
        checks.append(lambda v: _equal(v, const))
    if "minimum" in schema or "maximum" in schema:
        low, high = schema.get("minimum"), schema.get("maximum")

        def check_range(v):
            if isinstance(v, bool) or not isinstance(v, int | float):
                return True
            return (low is None or v >= low) and (high is None or v <= high)

        checks.append(check_range)
    if "required" in schema:
        required = tuple(schema["required"])
        checks.append(lambda v: not isinstance(v, dict) or all(k in v for k in required))
    if "properties" in schema:
        props = {name: _compile(sub, refs) for name, sub in schema["properties"].items()}

        def check_props(v):
            if not isinstance(v, dict):
                return True
            for name, sub_check in props.items():
                if name in v and not sub_check(v[name]):
                    return False
            return True

        checks.append(check_props)
    if "items" in schema:
        item_check = _compile(schema["items"], refs)
        checks.append(lambda v: not isinstance(v, list) or all(item_check(i) for i in v))
    if "minItems" in schema:
        min_items = schema["minItems"]
        checks.append(lambda v: not isinstance(v, list) or len(v) >= min_items)
    if "allOf" in schema:
        parts = [_compile(sub, refs) for sub in schema["allOf"]]
        checks.append(lambda v: all(p(v) for p in parts))
    if "if" in schema:
        condition = _compile(schema["if"], refs)
        then = _compile(schema["then"], refs) if "then" in schema else (lambda v: True)
        checks.append(lambda v: then(v) if condition(v) else True)
    # "format" is an annotation in Draft 2020-12 (not asserted by default), as in jsonschema.
    if len(checks) == 1:
        return checks[0]
    return lambda v: all(c(v) for c in checks)


@cache
def _compiled() -> dict[str, Check]:
    refs: dict[str, Check] = {}
    for schema_id, schema in _schemas().items():
        refs[schema_id] = _compile(schema, refs)
    return refs


def record_is_valid(kind: str, record: Any) -> bool:
    """Fast check: True exactly when the full validator finds no error."""
    return _compiled()[RECORD_SCHEMAS[kind]](record)


# Fields whose value must never be repeated in a message: the run report is shown in pages and
# returned by the API, and jsonschema's messages quote the offending value.
SENSITIVE_FIELDS = ("civicNo",)


def _message(error) -> str:
    path = [str(p) for p in error.absolute_path]
    if not (path and path[0] in SENSITIVE_FIELDS):
        return error.message
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"Must be of type {expected}."
    if error.validator == "required":
        return error.message  # names the missing property, not a value
    return "Invalid value."


def record_errors(kind: str, record: Any) -> list[tuple[str, str]]:
    """(field path, message) for every schema error in one record, and every value the
    database could not store; empty when valid.

    Messages never quote the value of a sensitive field (civic numbers), nor a value too long
    or not storable.
    """
    errors = []
    if not record_is_valid(kind, record):
        for error in sorted(full_validator(kind).iter_errors(record), key=lambda e: list(e.path)):
            field = ".".join(str(p) for p in error.absolute_path)
            errors.append((field, _message(error)))
    # Then what the database could not store: a NUL, a value longer than its column.
    known = {field for field, _message_ in errors}
    errors += [e for e in stored_value_errors(kind, record) if e[0] not in known]
    return errors
