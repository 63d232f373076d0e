"""COPY in and out of PostgreSQL: the shared plumbing every stage that moves rows in bulk uses.

* Binary COPY of frames into tables, packed with numpy a column at a time (numbers, booleans,
  timestamps, text and jsonb, with NULLs): :func:`copy_frame`.
* Binary COPY of fixed-width numeric columns in and out, with no per-value text formatting
  or parsing on either side: :func:`copy_in`, :func:`copy_out`; of groups of values as one
  row of ``bigint[]`` per group: :func:`copy_in_groups`. Only what matcher moves in
  bulk: 8-byte integers, 8-byte floats and timestamps, never NULL (NULL floats travel as
  NaN; a NULL integer read out is refused with the column's name).
* Text COPY (CSV) of rows, for imports that PostgreSQL parses and checks:
  :func:`copy_rows`.

Format: https://www.postgresql.org/docs/current/sql-copy.html
"""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from psycopg2 import sql as pgsql
from sqlalchemy import Connection

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
TRAILER = b"\xff\xff"
NULL_FIELD = b"\xff\xff\xff\xff"  # a field's length -1: NULL, no value
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
    _copy_binary_in(conn, table, list(columns), [rows.tobytes()])


def copy_in_groups(conn: Connection, table: str, columns: dict[str, np.ndarray],
                   lists: dict[str, np.ndarray], starts: np.ndarray) -> None:
    """COPY one row per group into ``table``: each of ``columns`` one int64 per group
    (timestamps as :func:`timestamp_value`), each of ``lists`` a ``bigint[]``, group ``i``'s
    being ``values[starts[i]:starts[i + 1]]`` (the last group's runs to the end). A few
    rows of arrays instead of a row per value: PostgreSQL parses and stores a row for
    each group, not each value."""
    n = len(starts)
    total = len(next(iter(lists.values())))
    ends = np.r_[starts[1:], total][:n].astype(np.int64)
    sizes = ends - starts
    head = np.empty(n, dtype=_row_dtype({name: "i" for name in columns}))
    head["_count"] = len(columns) + len(lists)
    for name, values in columns.items():
        head[f"_length_{name}"] = 8
        head[name] = values
    # an array field: its length, then ndim 1, no NULLs, element type int8 (oid 20), the
    # dimension's size and lower bound 1, then each element's length and value
    array_head = np.empty(n, dtype=[(f, ">i4") for f in ("length", "ndim", "nulls", "oid",
                                                         "size", "lower")])
    array_head["length"], array_head["ndim"], array_head["nulls"] = 20 + 12 * sizes, 1, 0
    array_head["oid"], array_head["size"], array_head["lower"] = 20, sizes, 1
    heads, array_heads = head.tobytes(), array_head.tobytes()
    elements = []
    for values in lists.values():
        element = np.empty(total, dtype=[("length", ">i4"), ("value", ">i8")])
        element["length"], element["value"] = 8, values
        elements.append(element.tobytes())
    a, b, w = head.itemsize, array_head.itemsize, 12
    rows = [heads[i * a:(i + 1) * a] + b"".join(
                array_heads[i * b:(i + 1) * b] + data[start * w:end * w] for data in elements)
            for i, (start, end) in enumerate(zip(starts.tolist(), ends.tolist(), strict=True))]
    _copy_binary_in(conn, table, [*columns, *lists], rows)


def _copy_binary_in(conn: Connection, table: str, columns: list[str], rows) -> None:
    """COPY ``rows`` (binary COPY rows as bytes, end to end) into ``table``'s ``columns``."""
    buffer = io.BytesIO(b"".join([SIGNATURE, *rows, TRAILER]))
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
    # a NULL (length -1, no value) would shift every later row: refuse instead of misreading
    null = [c for c in integers if (rows[f"_length_{c}"] != 8).any()]
    if null or len(data) != len(SIGNATURE) + count * dtype.itemsize + len(TRAILER):
        raise ValueError(f"binary COPY out: NULL in integer column {', '.join(null) or '?'}; "
                         "every integer column must have a value in every row")
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


#: How binary COPY sends a value of each type matcher writes from frames: a fixed-width
#: big-endian number (numpy dtype), or ``None`` for text sent as its UTF-8 bytes.
_BINARY = {"smallint": ">i2", "integer": ">i4", "bigint": ">i8", "double precision": ">f8",
           "real": ">f4", "boolean": "?", "timestamp with time zone": ">i8",
           "text": None, "jsonb": None}


def _column_types(conn: Connection, table: str, columns: list[str]) -> list[str]:
    """The type (as ``format_type`` spells it) of each of ``table``'s ``columns``."""
    found = dict(conn.exec_driver_sql(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = to_regclass(quote_ident(%(table)s)) AND attnum > 0 "
        "AND NOT attisdropped", {"table": table}).all())
    missing = [c for c in columns if c not in found]
    if missing:
        raise ValueError(f"table {table!r} has no column {missing[0]!r}")
    unknown = [(c, found[c]) for c in columns if found[c] not in _BINARY]
    if unknown:
        raise ValueError(f"column {table}.{unknown[0][0]}: type {unknown[0][1]} is not "
                         f"written by binary COPY here")
    return [found[c] for c in columns]


def _text_fields(values: pd.Series, jsonb: bool) -> list[bytes]:
    """Each value of a text or jsonb column as its binary COPY field: a 4-byte length, then
    the UTF-8 bytes (jsonb: after its version byte, 1); a length of -1 for NULL (None, NaN)."""
    prefix = b"\x01" if jsonb else b""
    out = []
    for value, null in zip(values.tolist(), values.isna().to_numpy().tolist(), strict=True):
        if null:
            out.append(NULL_FIELD)
        else:
            data = prefix + str(value).encode()
            out.append(len(data).to_bytes(4, "big") + data)
    return out


def _fixed_fields(frame: pd.DataFrame, types: list[str], count: int) -> list[bytes]:
    """Each row's field ``count`` and its fixed-width fields (numbers, booleans, timestamps), as
    one bytes object per row, packed a column at a time with numpy. A NULL (NaN, NaT, None)
    is a length of -1 and no value, so rows with NULLs are shorter."""
    n = len(frame)
    columns = []  # (each row's value as bytes, each field's value width: 0 for NULL)
    for name, pgtype in zip(frame.columns, types, strict=True):
        values = frame[name]
        if pgtype == "timestamp with time zone":
            moments = pd.to_datetime(values, utc=True).dt.tz_convert(None)
            null = moments.isna().to_numpy()
            numbers = ((moments - POSTGRES_EPOCH.replace(tzinfo=None))
                       // pd.Timedelta(microseconds=1)).fillna(0).to_numpy(np.int64)
        else:
            null = values.isna().to_numpy()
            numbers = values.to_numpy()
            if null.any():
                numbers = np.where(null, 0, numbers)
        data = np.asarray(numbers).astype(_BINARY[pgtype])
        columns.append((data.view(np.uint8).reshape(n, data.dtype.itemsize),
                        np.where(null, 0, data.dtype.itemsize)))
    sizes = 2 + sum((4 + kept for _, kept in columns), np.zeros(n, np.int64))
    ends = np.cumsum(sizes)
    out = np.zeros(int(sizes.sum()), dtype=np.uint8)
    at = ends - sizes
    out[at[:, None] + np.arange(2)] = np.array([count], ">i2").view(np.uint8)
    at = at + 2
    for data, kept in columns:
        lengths = np.where(kept > 0, kept, -1).astype(">i4")
        out[at[:, None] + np.arange(4)] = lengths.view(np.uint8).reshape(n, 4)
        present = kept > 0
        out[(at[present] + 4)[:, None] + np.arange(data.shape[1])] = data[present]
        at = at + 4 + kept
    packed = out.tobytes()
    return [packed[a:b] for a, b in zip((ends - sizes).tolist(), ends.tolist(), strict=True)]


def copy_frame(conn: Connection, table: str, frame: pd.DataFrame) -> None:
    """COPY ``frame`` (columns named as ``table``'s) into ``table`` in binary, in ``conn``'s
    transaction; missing values (NaN, NaT, None) become NULL. No value is formatted or parsed
    as text on either side: numbers are packed a column at a time with numpy, and each row
    is its fixed-width fields, then its text ones."""
    types = dict(zip(frame.columns, _column_types(conn, table, list(frame.columns)),
                     strict=True))
    fixed = [c for c in frame.columns if _BINARY[types[c]] is not None]
    texts = [c for c in frame.columns if _BINARY[types[c]] is None]
    rows = zip(_fixed_fields(frame[fixed], [types[c] for c in fixed], len(types)),
               *(_text_fields(frame[c], types[c] == "jsonb") for c in texts), strict=True)
    _copy_binary_in(conn, table, fixed + texts, itertools.chain.from_iterable(rows))


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
