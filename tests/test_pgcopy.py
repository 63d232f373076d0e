"""Binary COPY of frames: every value arrives as the same value, NULLs as NULL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from matcher.pgcopy import copy_frame, copy_in_groups, copy_out_arrays, timestamp_value

TABLE = """CREATE TABLE copied (
    small smallint, whole integer, big bigint, real_number double precision,
    flag boolean, note text, doc jsonb, moment timestamptz)"""


@pytest.fixture
def copied(engine):
    with engine.begin() as conn:
        conn.exec_driver_sql(TABLE)
    return engine


def _read(engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.exec_driver_sql(
            "SELECT small, whole, big, real_number, flag, note, doc, moment FROM copied "
            "ORDER BY big").all()]


def test_copy_frame_writes_every_type_and_null_as_sent(copied):
    moment = datetime(2026, 11, 30, 23, 59, 58, 123456, tzinfo=UTC)
    frame = pd.DataFrame({
        "small": [1, -2, 3], "whole": [70_000, 0, -1], "big": [1, 2, 2**40],
        "real_number": [0.1, np.nan, -1e300], "flag": [True, False, True],
        "note": ["plain", None, "naïve; \"quoted\", tab\tand\nnewline"],
        "doc": [json.dumps([{"feature": "x", "value": 0.5}]), "[]", None],
        "moment": [moment, None, datetime(1999, 12, 31, tzinfo=UTC)]})
    with copied.begin() as conn:
        copy_frame(conn, "copied", frame)
    assert _read(copied) == [
        (1, 70_000, 1, 0.1, True, "plain", [{"feature": "x", "value": 0.5}], moment),
        (-2, 0, 2, None, False, None, [], None),
        (3, -1, 2**40, -1e300, True, "naïve; \"quoted\", tab\tand\nnewline", None,
         datetime(1999, 12, 31, tzinfo=UTC))]


def test_copy_frame_writes_a_subset_of_columns_and_an_empty_frame(copied):
    with copied.begin() as conn:
        copy_frame(conn, "copied", pd.DataFrame({"big": [], "note": []}))
        copy_frame(conn, "copied", pd.DataFrame({"note": ["only"], "big": [7]}))
    assert _read(copied) == [(None, None, 7, None, None, "only", None, None)]


def test_copy_frame_names_an_unknown_column_or_type(copied):
    with copied.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE copied ADD COLUMN amount numeric")
        with pytest.raises(ValueError, match="has no column 'nope'"):
            copy_frame(conn, "copied", pd.DataFrame({"nope": [1]}))
        with pytest.raises(ValueError, match="copied.amount: type numeric"):
            copy_frame(conn, "copied", pd.DataFrame({"amount": [1]}))


def test_copy_out_refuses_a_null_integer_instead_of_misreading_the_rows(engine):
    query = "SELECT n AS id, CASE WHEN n = 2 THEN NULL ELSE n END AS key, n * 0.5 AS x " \
            "FROM generate_series(1, 3) n"
    with engine.connect() as conn:
        ints, values = copy_out_arrays(conn, "SELECT n AS id, n * 0.5 AS x "
                                       "FROM generate_series(1, 3) n", ["id"], ["x"])
        assert list(ints["id"]) == [1, 2, 3] and list(values[:, 0]) == [0.5, 1.0, 1.5]
        with pytest.raises(ValueError, match="NULL in integer column key"):
            copy_out_arrays(conn, query, ["id", "key"], ["x"])


def test_copy_in_groups_writes_each_groups_values_as_one_array_in_order(engine):
    members = np.array([5, -1, 2**40, 7, 7, 3], dtype=np.int64)
    starts = np.array([0, 3, 4])  # groups of 3, 1 and 2 values
    moment = datetime(2026, 12, 2, 1, 2, 3, 456789, tzinfo=UTC)
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE grouped (id bigint, at timestamptz, vals bigint[], "
                             "more bigint[], untouched bigint[])")
        copy_in_groups(conn, "grouped", {"id": np.array([10, 20, 30]),
                                         "at": np.full(3, timestamp_value(moment))},
                       {"vals": members, "more": -members}, starts)
        copy_in_groups(conn, "grouped", {"id": np.zeros(0, np.int64),
                                         "at": np.zeros(0, np.int64)},
                       {"vals": members[:0], "more": members[:0]}, starts[:0])
        rows = [tuple(r) for r in conn.exec_driver_sql(
            "SELECT id, at, vals, more, untouched FROM grouped ORDER BY id").all()]
    assert rows == [(10, moment, [5, -1, 2**40], [-5, 1, -2**40], None),
                    (20, moment, [7], [-7], None), (30, moment, [7, 3], [-7, -3], None)]
