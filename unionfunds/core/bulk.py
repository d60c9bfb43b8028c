"""Fast inserts of many rows: the data generators (``seed_demo --scale province``) and roster imports, whose
rows the service has validated before.

``insert_rows(model, fields, rows)`` writes tuples of Python values in the order of ``fields``: with
PostgreSQL's COPY (an order of magnitude faster than INSERTs for hundreds of thousands of rows), with
``executemany`` elsewhere. Values are written as given: ``auto_now`` fields, defaults and ``save()`` are
bypassed, so callers pass every column they want filled (timestamps included, which keeps the data
reproducible).
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
from collections.abc import Iterable, Sequence
from itertools import islice

from django.db import connection, models

BATCH = 50_000


def _columns(model: type[models.Model], fields: Sequence[str]) -> list[models.Field]:
    return [model._meta.get_field(name) for name in fields]


def _copy_value(value, field: models.Field) -> str:
    """One value in PostgreSQL's COPY text format."""
    if value is None:
        return r"\N"
    if isinstance(field, models.JSONField):
        value = json.dumps(value, ensure_ascii=False, cls=field.encoder)
    elif isinstance(value, bool):
        return "t" if value else "f"
    elif isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    elif isinstance(value, decimal.Decimal | int):
        return str(value)
    elif isinstance(value, models.Model):
        return str(value.pk)
    text = str(value)
    if any(c in text for c in "\\\t\n\r"):
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


def _copy(model, columns, rows: Iterable[tuple]) -> int:
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c.column) for c in columns)
    total = 0
    rows = iter(rows)
    with connection.cursor() as cursor:
        while batch := list(islice(rows, BATCH)):
            buffer = io.StringIO()
            for row in batch:
                buffer.write("\t".join(_copy_value(v, c) for v, c in zip(row, columns, strict=True)))
                buffer.write("\n")
            buffer.seek(0)
            with connection.wrap_database_errors:  # IntegrityError etc. as Django's, like any other query
                cursor.copy_expert(f"COPY {table} ({names}) FROM STDIN", buffer)
            total += len(batch)
    return total


def _executemany(model, columns, rows: Iterable[tuple]) -> int:
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c.column) for c in columns)
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({names}) VALUES ({placeholders})"  # noqa: S608 -- names from the model, values bound
    total = 0
    rows = iter(rows)
    with connection.cursor() as cursor:
        while batch := list(islice(rows, BATCH)):
            prepared = [
                [
                    c.get_db_prep_save(v.pk if isinstance(v, models.Model) else v, connection)
                    for v, c in zip(row, columns, strict=True)
                ]
                for row in batch
            ]
            cursor.executemany(sql, prepared)
            total += len(batch)
    return total


def insert_rows(model: type[models.Model], fields: Sequence[str], rows: Iterable[tuple]) -> int:
    """Insert ``rows`` (tuples in the order of ``fields``; foreign keys by their ``*_id`` name) and
    return how many were written. Columns not named get their field's default ("" for text)."""
    columns = _columns(model, fields)
    named = {c.attname for c in columns}
    rest = [f for f in model._meta.concrete_fields if f.attname not in named and not f.primary_key]
    if rest:
        defaults = tuple(f.get_default() for f in rest)
        columns += rest
        rows = (tuple(row) + defaults for row in rows)
    if connection.vendor == "postgresql":
        return _copy(model, columns, rows)
    return _executemany(model, columns, rows)
