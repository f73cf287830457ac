"""Many rows into one table in few statements: the organiser's transfer writes tens of thousands.

On PostgreSQL `bulk_insert` sends each column as one array and lets the server unnest them
(`INSERT … SELECT * FROM unnest(%s::type[], …)`): one parameter per column instead of one per
value, so Django does not compile a placeholder for every cell. Other databases get Django's
`bulk_create`. Either way the rows go in one transaction with the caller's, and `ON CONFLICT`
updates `update_fields` when `unique_fields` are given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import TypeVar

from django.db import connections, models, router
from django.utils import timezone

# Rows per statement: Django's bulk_create/bulk_update (one placeholder per value, so kept
# small) and the array INSERT below (one parameter per column, so it takes more).
ORM_BATCH = 1000
BATCH = 5000

T = TypeVar("T")


def chunked(values: Iterable[T], size: int = BATCH) -> Iterator[list[T]]:
    """`values` in lists of at most `size`, so that no `IN (…)` outgrows the database's limit."""
    values = list(values)
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _columns(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not (f.primary_key and f.auto_created)]


def _column(field: object) -> str:
    """The database column of a concrete field (a reverse relation has none)."""
    if not isinstance(field, models.Field) or not field.column:
        raise TypeError(f"{field} is not a column")
    return field.column


def bulk_insert(
    model: type[models.Model],
    rows: Sequence[models.Model],
    *,
    unique_fields: Sequence[str] = (),
    update_fields: Sequence[str] = (),
    batch_size: int = BATCH,
) -> None:
    """Insert `rows` (unsaved instances); on a conflict over `unique_fields`, update those fields.

    Primary keys are not set on the instances: read them back when they are needed.
    """
    if not rows:
        return
    connection = connections[router.db_for_write(model)]
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            rows,
            batch_size=batch_size,
            ignore_conflicts=bool(unique_fields) and not update_fields,
            update_conflicts=bool(unique_fields) and bool(update_fields),
            unique_fields=list(unique_fields) if update_fields else None,
            update_fields=list(update_fields) or None,
        )
        return
    opts = model._meta
    fields = _columns(model)
    quote = connection.ops.quote_name
    casts = ", ".join(f"%s::{f.db_type(connection)}[]" for f in fields)
    table = quote(opts.db_table)
    names = ", ".join(quote(_column(f)) for f in fields)
    # Only quoted table and column names are formatted in; every value is a parameter.
    sql = f"INSERT INTO {table} ({names}) SELECT * FROM unnest({casts})"  # noqa: S608
    if unique_fields:
        conflict = ", ".join(quote(_column(opts.get_field(name))) for name in unique_fields)
        updates = ", ".join(
            f"{quote(c)} = EXCLUDED.{quote(c)}"
            for c in (_column(opts.get_field(name)) for name in update_fields)
        )
        sql += f" ON CONFLICT ({conflict}) DO " + (
            f"UPDATE SET {updates}" if updates else "NOTHING"
        )
    now = timezone.now()
    stamped = {
        f.attname
        for f in fields
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    }
    with connection.cursor() as cursor:
        for start in range(0, len(rows), batch_size):
            batch = rows[start : start + batch_size]
            columns = [
                [
                    f.get_db_prep_save(
                        now if f.attname in stamped else getattr(row, f.attname), connection
                    )
                    for row in batch
                ]
                for f in fields
            ]
            cursor.execute(sql, columns)
