"""Hot-path reads compiled once per database connection and, on PostgreSQL, planned once.

A `PreparedQuery` is a queryset built once with placeholder values: its SQL, converters and the
position of each argument among the SQL parameters are kept per thread for the connection they
were compiled for, so a call only executes it (the ORM's per-call compilation would cost several
times the query itself). On PostgreSQL it runs through a server-binding psycopg cursor with
`prepare=True`: the statement is parsed and planned once per connection and then only executed
(Django's own cursors bind client-side, so PostgreSQL would plan a many-table join on every call).
psycopg keeps the statements' names, drops them on a rollback and re-prepares on the next call;
with `TESSERA_DB_PREPARED_STATEMENTS=0` (psycopg's `prepare_threshold` None, e.g. behind a
connection pooler that cannot keep them) the same reads run unprepared.

The queries go through Django's cursor wrapper, so query logging, execute wrappers and the mapping
of driver errors to `django.db` errors apply as to any other query.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.postgresql.psycopg_any import register_tzloader
from django.db.models import QuerySet
from psycopg.pq import Format

_TIMESTAMPTZ_OID = psycopg.adapters.types["timestamptz"].oid


class _PreparingCursor(psycopg.Cursor):
    """A server-binding cursor that asks psycopg to prepare every statement it executes."""

    def execute(self, query, params=None, *, prepare=None, binary=None):
        return super().execute(query, params, prepare=True, binary=binary)

    def _send_query_prepared(self, name, pgq, *, binary=None):
        # psycopg records the query it sends only when it sends it unprepared; Django's query
        # log (DEBUG, CaptureQueriesContext) reads it from `_query`
        self._query = pgq
        super()._send_query_prepared(name, pgq, binary=binary)


@contextmanager
def _cursor(connection) -> Iterator[Any]:
    if connection.vendor != "postgresql":
        with connection.cursor() as cursor:
            yield cursor
        return
    connection.ensure_connection()
    connection.validate_thread_sharing()
    with connection.wrap_database_errors:
        raw = _PreparingCursor(connection.connection)
    # as Django's own `create_cursor`: the connection's time zone, should it have changed since
    # the connection was made
    loader = raw.adapters.get_loader(_TIMESTAMPTZ_OID, Format.TEXT)
    if connection.timezone != getattr(loader, "timezone", None):
        register_tzloader(connection.timezone, raw)
    wrapped = (
        connection.make_debug_cursor(raw)
        if connection.queries_logged
        else connection.make_cursor(raw)
    )
    with wrapped as cursor:
        yield cursor


def _binder(placeholder: Any, compiled: Any) -> Callable[[Any], Any] | None:
    """How an argument takes the form the compiler gave `placeholder` (None: not this one)."""
    if compiled == placeholder and type(compiled) is type(placeholder):
        return _same
    if isinstance(placeholder, uuid.UUID):
        if compiled == placeholder.hex:  # backends without a uuid type store hex text
            return _uuid_hex
        if compiled == str(placeholder):
            return _uuid_text
    return None


def _same(value: Any) -> Any:
    return value


def _uuid_hex(value: Any) -> str:
    return (value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))).hex


def _uuid_text(value: Any) -> str:
    return str(value if isinstance(value, uuid.UUID) else uuid.UUID(str(value)))


class PreparedQuery:
    """A read whose SQL is compiled once per connection (and prepared once on PostgreSQL).

    `build(*placeholders)` returns the queryset (`values_list`, ordered as wanted); each call of
    `one(*args)` / `all(*args)` runs it with `args` in the placeholders' places. Placeholders
    must be values no constant of the query equals (a uuid, or a text no caller sends).
    """

    def __init__(self, build: Callable[..., QuerySet], *, placeholders: tuple[Any, ...]) -> None:
        self.build = build
        self.placeholders = placeholders
        self._local = threading.local()

    def _prepared(self, connection):
        entry = getattr(self._local, "entry", None)
        if entry is None or entry[0] is not connection:
            query = self.build(*self.placeholders).query
            compiler = query.get_compiler(connection=connection)
            sql, params = compiler.as_sql()
            slots = [self._slot(param) for param in params]
            if {slot[0] for slot in slots if slot[0] is not None} != set(
                range(len(self.placeholders))
            ):
                raise RuntimeError("every placeholder of a prepared query must reach its SQL")
            fields = [column[0] for column in compiler.select[: compiler.col_count]]
            entry = (connection, sql, slots, compiler, compiler.get_converters(fields))
            self._local.entry = entry
        return entry

    def _slot(self, param: Any) -> tuple[int | None, Any]:
        """(argument index, binder), or (None, the constant) for a parameter of the query's own."""
        for index, placeholder in enumerate(self.placeholders):
            binder = _binder(placeholder, param)
            if binder is not None:
                return index, binder
        return None, param

    def _rows(self, args: tuple[Any, ...], *, limit_one: bool) -> list[tuple]:
        if len(args) != len(self.placeholders):
            raise TypeError(f"this query takes {len(self.placeholders)} arguments")
        connection = connections[DEFAULT_DB_ALIAS]
        _, sql, slots, compiler, converters = self._prepared(connection)
        params = [value if index is None else value(args[index]) for index, value in slots]
        with _cursor(connection) as cursor:
            cursor.execute(sql, params)
            rows = [cursor.fetchone()] if limit_one else cursor.fetchall()
        rows = [row for row in rows if row is not None]
        if converters and rows:
            rows = list(compiler.apply_converters(rows, converters))
        return [tuple(row) for row in rows]

    def one(self, *args: Any) -> tuple | None:
        rows = self._rows(args, limit_one=True)
        return rows[0] if rows else None

    def all(self, *args: Any) -> list[tuple]:
        return self._rows(args, limit_one=False)


class PreparedRow(PreparedQuery):
    """A one-row read by primary key (`fetch(pk)`; None for a pk that is not a uuid)."""

    _PLACEHOLDER = uuid.UUID(int=0)

    def __init__(self, model, build: Callable[[uuid.UUID], QuerySet]) -> None:
        super().__init__(build, placeholders=(self._PLACEHOLDER,))
        self.model = model

    def fetch(self, pk) -> tuple | None:
        try:
            key = pk if isinstance(pk, uuid.UUID) else uuid.UUID(str(pk))
        except ValueError:
            return None
        return self.one(key)
