"""INSERT many rows with executemany, the values prepared before the write transaction starts.

Why not `bulk_create`: it builds a model instance per row and prepares every value through half a
dozen Python calls, inside the caller's transaction, so a large import held SQLite's write lock
(and so every check-in) for most of its run. Here each value is converted once, as its field would
be for this database (dates, times, decimals, JSON), by `prepare_insert` outside the transaction;
`execute` then only runs the statement. Columns whose values are known only inside the
transaction (the id of a row written there) are filled in with `Prepared.set_column`.
"""

from dataclasses import dataclass
from functools import partial

from django.db import connection

CHUNK = 5000


def converters(fields) -> list:
    """Per field, the conversion its value needs for this database (None: none)."""
    ops = connection.ops
    converters = []
    for field in fields:
        kind = field.get_internal_type()
        if kind == "JSONField":
            converters.append(lambda value, f=field: f.get_db_prep_save(value, connection))
        elif kind == "DateField":
            converters.append(ops.adapt_datefield_value)
        elif kind == "DateTimeField":
            converters.append(ops.adapt_datetimefield_value)
        elif kind == "DecimalField":
            converters.append(
                partial(
                    ops.adapt_decimalfield_value,
                    max_digits=field.max_digits,
                    decimal_places=field.decimal_places,
                )
            )
        else:
            converters.append(None)
    return converters


@dataclass
class Prepared:
    sql: str
    columns: list[str]  # attnames, in the statement's order
    params: list[list]

    def set_column(self, attname: str, values) -> None:
        """Fill one column in every row (`values`: one per row, or one for all) — already in the
        database's form (ids, text)."""
        index = self.columns.index(attname)
        if isinstance(values, list):
            for row, value in zip(self.params, values, strict=True):
                row[index] = value
        else:
            for row in self.params:
                row[index] = values

    def __len__(self) -> int:
        return len(self.params)


def prepare_insert(model, rows) -> Prepared:
    """The statement and converted values for `rows` (dicts by attname, every column given)."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    ops = connection.ops
    pairs = list(zip([f.attname for f in fields], converters(fields), strict=True))
    names = ", ".join(ops.quote_name(f.column) for f in fields)
    marks = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {ops.quote_name(model._meta.db_table)} ({names}) VALUES ({marks})"  # noqa: S608 - names from the model
    params = [[convert(row[name]) if convert else row[name] for name, convert in pairs] for row in rows]
    return Prepared(sql, [name for name, _convert in pairs], params)


def execute(prepared: Prepared) -> None:
    with connection.cursor() as cursor:
        for start in range(0, len(prepared.params), CHUNK):
            cursor.executemany(prepared.sql, prepared.params[start : start + CHUNK])


def insert(model, rows: list[dict]) -> None:
    """Prepare and write at once (when there is no transaction to keep short)."""
    if rows:
        execute(prepare_insert(model, rows))
