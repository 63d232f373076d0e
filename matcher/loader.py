"""Loading mentors, mentees, interactions and feedback into PostgreSQL, all or nothing.

Frames in the CSV interchange format (:mod:`matcher.formats`) are streamed with ``COPY`` into
temporary staging tables and upserted by external id in one transaction: a re-load of the
same data changes nothing, a failure anywhere writes nothing.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from matcher import bulk
from matcher.availability import parse_availability, utc_bits
from matcher.clock import Clock
from matcher.db import sql
from matcher.errors import InputError
from matcher.formats import FEEDBACK, INTERACTIONS, MENTEES, MENTORS, FileFormat
from matcher.pgcopy import copy_rows, csv_text

log = logging.getLogger(__name__)

TABLES = {"mentors": "mentors", "mentees": "mentees", "interactions": "interactions",
          "feedback": "recommendation_feedback"}  # file format -> the table it loads into


@dataclass
class Dataset:
    """Frames in the interchange format; any of them may be absent."""

    mentors: pd.DataFrame | None = None
    mentees: pd.DataFrame | None = None
    interactions: pd.DataFrame | None = None
    feedback: pd.DataFrame | None = None


@dataclass
class LoadReport:
    """Rows inserted and updated per table, and seconds per step of the load."""

    inserted: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    skipped: int = 0  # rows left out for problems (``matcher import --skip-bad-rows``)
    # "format" (rows to COPY text), "copy" (COPY into staging), "write" (upserts, rebuilds)
    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(
        ("format", "copy", "write"), 0.0))

    def __str__(self) -> str:
        text = ", ".join(f"{name}: {self.inserted[name]:,} new, {self.updated[name]:,} updated"
                         for name in self.inserted)
        return text + (f"; {self.skipped:,} rows with problems skipped" if self.skipped else "")


def pg_array(items) -> str:
    """A PostgreSQL array literal with every element quoted (``{"a","b c"}``)."""
    if items is None:
        return "{}"
    quoted = ('"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"' for s in items)
    return "{" + ",".join(quoted) + "}"


def _csv_column(values: pd.Series, kind: str):
    """One column as COPY-ready CSV values (None/NaN/NaT become NULL)."""
    if kind == "list":
        return [pg_array(v) for v in values]
    if kind == "bool":
        return values.map({True: "t", False: "f"})
    if kind == "timestamp":  # ISO 8601 in UTC, formatted by numpy rather than per value
        moments = pd.to_datetime(values, utc=True, format="ISO8601")
        text = np.datetime_as_string(moments.to_numpy(dtype="datetime64[us]"), unit="us",
                                     timezone="UTC")
        return pd.Series(text, dtype=object).where(moments.notna().to_numpy(), None)
    if kind == "int":
        return pd.array(pd.to_numeric(values), dtype="Int64")
    return values


def frame_to_csv(frame: pd.DataFrame, fmt: FileFormat, extra: list[str] | None = None):
    """``frame`` in ``fmt``'s column order as CSV text for COPY, built column-wise."""
    out = pd.DataFrame({c.name: _csv_column(frame[c.name], c.kind) for c in fmt.columns},
                       index=range(len(frame)))
    if extra is not None:
        out["extra"] = extra
    return csv_text(out)


def availability_bits(frame: pd.DataFrame, offsets: dict[str, int]) -> list[str]:
    """``availability_utc`` for each row of a mentors/mentees frame (already validated), in
    PostgreSQL's hexadecimal bit-string input (``x`` + 168 digits: a quarter of the text)."""
    return [f"x{utc_bits(parse_availability(text), offsets[tz]):0168x}"
            for text, tz in zip(frame["availability"], frame["timezone"], strict=True)]


def external_ids(conn: Connection) -> tuple[dict[int, str], dict[int, str]]:
    """Internal id -> the programme's id, for mentees and for mentors."""
    return ({i: name for name, i in conn.execute(sql("loader/mentee_ids.sql"))},
            {i: name for name, i in conn.execute(sql("loader/mentor_ids.sql"))})


def timezone_offsets(conn: Connection) -> dict[str, int]:
    """Standard UTC offset in minutes of every zone PostgreSQL knows."""
    return dict(conn.execute(sql("loader/timezone_offsets.sql")).all())


def load(conn: Connection, data: Dataset) -> LoadReport:
    """Load ``data`` within the caller's transaction on ``conn``.

    Raises :class:`InputError` if interactions or feedback name people that exist neither in
    ``data`` nor in the database; the caller's rollback then leaves nothing written.
    """
    report = LoadReport()
    clock = Clock(report.seconds)
    conn.execute(sql("loader/create_stage.sql"))
    offsets = timezone_offsets(conn)
    for fmt in (MENTORS, MENTEES, INTERACTIONS, FEEDBACK):
        frame = getattr(data, fmt.name)
        if frame is None:
            continue
        with clock("format"):
            people = fmt in (MENTORS, MENTEES)
            rows = frame_to_csv(frame, fmt, availability_bits(frame, offsets) if people else None)
        with clock("copy"):
            copy_rows(conn, f"stage_{fmt.name}",
                      [*fmt.column_names, *(["availability_utc"] if people else [])], rows,
                      not_null=("availability",) if people else ())

    for fmt in (MENTORS, MENTEES, INTERACTIONS, FEEDBACK):
        if fmt is INTERACTIONS:  # people are in place: every reference must resolve now
            unresolved = conn.execute(sql("loader/unresolved_references.sql")).all()
            if unresolved:
                listed = "; ".join(f"{f}: mentee {me!r} / mentor {mo!r}"
                                   for f, me, mo in unresolved)
                raise InputError(f"rows name unknown mentees or mentors: {listed}")
        frame = getattr(data, fmt.name)
        with clock("write"), bulk.rebuilt_after(
                conn, TABLES[fmt.name], 0 if frame is None else len(frame)):
            inserted, updated = conn.execute(sql(f"loader/upsert_{fmt.name}.sql")).one()
        report.inserted[fmt.name], report.updated[fmt.name] = inserted, updated
    conn.execute(sql("loader/drop_stage.sql"))
    log.info("loaded %s in %.1f s (%s)", report, sum(report.seconds.values()),
             ", ".join(f"{step} {seconds:.1f} s" for step, seconds in report.seconds.items()))
    return report
