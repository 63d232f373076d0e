"""COPY in and out of PostgreSQL: the shared plumbing every stage that moves rows in bulk uses.

* Text COPY (CSV) for frames and rows of any type: :func:`copy_frame`, :func:`copy_rows`.
* Binary COPY for fixed-width numeric columns, packed and unpacked with numpy, with no
  per-value text formatting or parsing on either side: :func:`copy_in`, :func:`copy_out`.
  Only what matcher moves in bulk: 8-byte integers, 8-byte floats and timestamps, never
  NULL (NULL floats travel as NaN). Format: https://www.postgresql.org/docs/current/sql-copy.html
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from psycopg2 import sql as pgsql
from sqlalchemy import Connection

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
POSTGRES_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _row_dtype(columns: dict[str, str]) -> np.dtype:
    """One binary COPY row: field count, then (length, value) per column; kinds 'i' or 'f'."""
    fields = [("_count", ">i2")]
    for name, kind in columns.items():
        fields += [(f"_length_{name}", ">i4"), (name, ">i8" if kind == "i" else ">f8")]
    return np.dtype(fields)


def timestamp_value(moment: datetime) -> int:
    """A timestamptz as binary COPY sends it: microseconds since 2000-01-01 UTC."""
    delta = moment - POSTGRES_EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def copy_in(conn: Connection, table: str, columns: dict[str, np.ndarray]) -> None:
    """COPY equal-length int64 arrays (timestamps as :func:`timestamp_value`) into ``table``."""
    n = len(next(iter(columns.values())))
    rows = np.empty(n, dtype=_row_dtype({name: "i" for name in columns}))
    rows["_count"] = len(columns)
    for name, values in columns.items():
        rows[f"_length_{name}"] = 8
        rows[name] = values
    buffer = io.BytesIO(SIGNATURE + rows.tobytes() + TRAILER)
    statement = pgsql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT binary)").format(
        pgsql.Identifier(table), pgsql.SQL(", ").join(map(pgsql.Identifier, columns)))
    with conn.connection.driver_connection.cursor() as cursor:
        cursor.copy_expert(statement, buffer)


def copy_out(conn: Connection, query: str, integers: list[str],
             floats: list[str]) -> pd.DataFrame:
    """Run ``query`` (its columns: ``integers`` then ``floats``, in that order) and return its
    rows as a frame: integer columns cast to bigint, float columns to float8 with NULL as NaN."""
    ints, matrix = copy_out_arrays(conn, query, integers, floats)
    frame = pd.DataFrame(ints)
    if floats:
        frame = frame.join(pd.DataFrame(matrix, columns=floats))
    return frame


def copy_out_arrays(conn: Connection, query: str, integers: list[str], floats: list[str]
                    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """As :func:`copy_out`, without the frame: each integer column as an int64 array, and the
    float columns as one float64 (rows, columns) matrix."""
    select = pgsql.SQL(", ").join(
        [pgsql.SQL("{}::int8").format(pgsql.Identifier(c)) for c in integers]
        + [pgsql.SQL("coalesce({}::float8, 'NaN')").format(pgsql.Identifier(c))
           for c in floats])
    statement = pgsql.SQL("COPY (SELECT {} FROM ({}) q) TO STDOUT WITH (FORMAT binary)").format(
        select, pgsql.SQL(query))
    buffer = io.BytesIO()
    with conn.connection.driver_connection.cursor() as cursor:
        cursor.copy_expert(statement, buffer)
    data = buffer.getbuffer()
    dtype = _row_dtype({**{c: "i" for c in integers}, **{c: "f" for c in floats}})
    if bytes(data[:len(SIGNATURE)]) != SIGNATURE:
        raise ValueError("unexpected binary COPY header")
    count = (len(data) - len(SIGNATURE) - len(TRAILER)) // dtype.itemsize
    rows = np.frombuffer(data, dtype=dtype, count=count, offset=len(SIGNATURE))
    ints = {c: rows[c].astype(np.int64) for c in integers}
    if not (floats and count):
        return ints, np.zeros((count, len(floats)))
    # every float column read as one strided view: one conversion
    first = dtype.fields[floats[0]][1]
    return ints, np.ndarray((count, len(floats)), dtype=">f8", buffer=data,
                            offset=len(SIGNATURE) + first,
                            strides=(dtype.itemsize, 12)).astype(np.float64)


def csv_text(frame: pd.DataFrame) -> io.StringIO:
    """``frame`` as CSV text without header or index, ready for :func:`copy_rows`."""
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False, lineterminator="\n")
    buffer.seek(0)
    return buffer


def copy_frame(conn: Connection, table: str, frame: pd.DataFrame) -> None:
    """COPY ``frame`` (columns named as ``table``'s) into ``table``, in ``conn``'s
    transaction; missing values become NULL."""
    copy_rows(conn, table, list(frame.columns), csv_text(frame))


def copy_rows(conn: Connection, table: str, columns: list[str], rows, *, not_null=()) -> None:
    """Stream ``rows`` (tuples of CSV-ready cells, or a CSV text buffer) into ``table`` with
    COPY ... FROM STDIN, inside ``conn``'s transaction."""
    if isinstance(rows, io.StringIO):
        buffer = rows
    else:
        buffer = io.StringIO()
        csv.writer(buffer, lineterminator="\n").writerows(rows)
        buffer.seek(0)
    options = pgsql.SQL("FORMAT csv")
    if not_null:
        options = pgsql.SQL("FORMAT csv, FORCE_NOT_NULL ({})").format(
            pgsql.SQL(", ").join(map(pgsql.Identifier, not_null)))
    statement = pgsql.SQL("COPY {} ({}) FROM STDIN WITH ({})").format(
        pgsql.Identifier(table), pgsql.SQL(", ").join(map(pgsql.Identifier, columns)), options)
    with conn.connection.driver_connection.cursor() as cursor:
        cursor.copy_expert(statement.as_string(cursor), buffer)
