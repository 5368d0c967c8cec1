"""Plain SQL for the few statements run on every call of a busy API, with model instances or
values made from their rows as the ORM would make them.

Building a query with the ORM costs more than PostgreSQL takes to run a simple one; these
statements are written once from the models' own field lists, and each column's value goes
through the same converters the ORM applies (SQLite returns times without their zone, a JSON
field arrives as text, and so on).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models.expressions import Col


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model: type[models.Model]) -> str:
    return quote(model._meta.db_table)


def marks(values: Sequence) -> str:
    return ", ".join(["%s"] * len(values))


def one_of(column: str, values: Sequence) -> str:
    """``column`` is one of ``values``: ``= ANY(%s)`` with the values as one array parameter
    on PostgreSQL (a thousand names cost one placeholder, not a thousand for the driver to
    find and quote), ``IN (%s, …)`` elsewhere; ``one_of_params`` gives the parameters."""
    if connection.vendor == "postgresql":
        return f"{column} = ANY(%s)"
    return f"{column} IN ({marks(values)})"


def one_of_params(values: Sequence) -> list:
    """The parameters of ``one_of`` for the same values."""
    return [list(values)] if connection.vendor == "postgresql" else list(values)


@dataclass(frozen=True)
class Columns:
    """Some (or all concrete) fields of a model as a select list under a table alias."""

    names: list[str]
    sql: str
    converters: list[tuple[Col, list]]

    def convert(self, values: Iterable[Any]) -> list[Any]:
        out = []
        for value, (col, functions) in zip(values, self.converters, strict=True):
            for function in functions:
                value = function(value, col, connection)
            out.append(value)
        return out


def columns(model: type[models.Model], alias: str, names: Sequence[str] | None = None) -> Columns:
    fields = (
        list(model._meta.concrete_fields)
        if names is None
        else [model._meta.get_field(n) for n in names]
    )
    converters = []
    for field in fields:
        col = Col(alias, field)
        converters.append(
            (col, connection.ops.get_db_converters(col) + field.get_db_converters(connection))
        )
    return Columns(
        names=[f.attname for f in fields],
        sql=", ".join(f"{alias}.{quote(f.column)}" for f in fields),
        converters=converters,
    )
