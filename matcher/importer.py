"""Importing a programme's own CSV files (``matcher import``), all or nothing.

Every file is read and checked completely before anything is written, so one run reports
every problem of every file as ``file:line: column 'x': reason``. Then everything is loaded
in one transaction by :mod:`matcher.loader`. Free text (bios, goals) is never logged.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
from sqlalchemy.engine import Engine

from matcher import loader
from matcher.availability import parse_availability
from matcher.db import sql
from matcher.errors import InputError
from matcher.formats import FORMATS, LIST_SEPARATOR, Column, FileFormat
from matcher.loader import Dataset, LoadReport

log = logging.getLogger(__name__)

MAX_REPORTED_PROBLEMS = 200
#: Longest accepted field, in characters (a longer one is a row problem naming its column).
MAX_FIELD_CHARS = 100_000
#: Longest field the CSV reader takes at all; past it the rest of the file is unreadable.
CSV_FIELD_LIMIT = 16 * 1024 * 1024
#: Event times (requests, endings, recommendations shown, answers) may be at most this far
#: in the future, for clocks that are a little off; later ones are mistakes.
FUTURE_TOLERANCE = timedelta(days=1)
TRUE_WORDS = {"true", "t", "yes", "y", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "0"}


@dataclass
class Problems:
    """Every problem found, each naming file, line, column and reason.

    A problem on a data line (line 2 on) belongs to that row, which ``--skip-bad-rows`` may
    leave out; any other (unreadable file, bad header) makes the whole file unusable."""

    items: list[str] = field(default_factory=list)
    bad_lines: set[tuple[str, int]] = field(default_factory=set)
    unusable_files: set[str] = field(default_factory=set)

    def add(self, path: Path, line: int, column: str | None, reason: str, *,
            whole_file: bool = False) -> None:
        where = f"{path.name}:{line}"
        self.items.append(f"{where}: column '{column}': {reason}" if column
                          else f"{where}: {reason}")
        if whole_file or line < 2:
            self.unusable_files.add(path.name)
        else:
            self.bad_lines.add((path.name, line))

    def without_bad_rows(self, path: Path, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` (indexed by line) without the lines that have a problem."""
        bad = [line for name, line in self.bad_lines if name == path.name]
        return frame[~frame.index.isin(bad)]

    def raise_if_any(self, *, rows_may_be_skipped: bool = False) -> None:
        if not self.items or (rows_may_be_skipped and not self.unusable_files):
            return
        shown = self.items[:MAX_REPORTED_PROBLEMS]
        more = len(self.items) - len(shown)
        text = "\n  ".join(shown) + (f"\n  ... and {more} more" if more else "")
        raise InputError(f"{len(self.items)} problem(s) found, nothing was imported:\n  {text}")


def _parse_value(raw: str, column: Column, timezones: set[str]):
    """Return the typed value of a non-empty cell, or raise ValueError with the reason."""
    if column.kind == "list":
        return [item.strip() for item in raw.split(LIST_SEPARATOR) if item.strip()]
    if column.kind == "int":
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"'{raw}' is not a whole number") from None
        if column.minimum is not None and value < column.minimum:
            raise ValueError(f"{value} is below the minimum {column.minimum}")
        if column.maximum is not None and value > column.maximum:
            raise ValueError(f"{value} is above the maximum {column.maximum}")
        return value
    if column.kind == "bool":
        lowered = raw.lower()
        if lowered in TRUE_WORDS:
            return True
        if lowered in FALSE_WORDS:
            return False
        raise ValueError(f"'{raw}' is not true/false")
    if column.kind == "timestamp":
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"'{raw}' is not an ISO 8601 timestamp") from None
        if value.tzinfo is None:
            raise ValueError(f"'{raw}' has no UTC offset (write e.g. 2025-03-01T18:00:00+01:00)")
        if value > datetime.now(UTC) + FUTURE_TOLERANCE:
            raise ValueError(f"'{raw}' is in the future (events must have happened by now)")
        return value
    if column.kind == "deadline":
        try:
            value = datetime.fromisoformat(raw)
        except ValueError:
            raise ValueError(f"'{raw}' is neither a date (2026-12-24) nor an ISO 8601 "
                             "timestamp") from None
        if value.tzinfo is None and len(raw) > 10:
            raise ValueError(f"'{raw}' has no UTC offset (write e.g. 2026-12-24T18:00:00+01:00, "
                             "or a date alone)")
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if column.kind == "timezone":
        if raw not in timezones:
            raise ValueError(f"'{raw}' is not an IANA time zone known to PostgreSQL")
        return raw
    if column.kind == "availability":
        parse_availability(raw)
        return raw
    if column.kind == "choice" and raw not in column.choices:
        raise ValueError(f"'{raw}' is not one of {', '.join(column.choices)}")
    return raw


def read_file(path: Path, fmt: FileFormat, timezones: set[str],
              problems: Problems) -> pd.DataFrame:
    """Read and validate one CSV file; problems are collected, never raised here."""
    rows: list[dict] = []
    lines: list[int] = []
    csv.field_size_limit(CSV_FIELD_LIMIT)
    try:
        # Bytes that are not UTF-8 are kept as surrogates and reported with their row and
        # column below, instead of stopping the reader at an unknown line.
        handle = path.open(newline="", encoding="utf-8-sig", errors="surrogateescape")
    except OSError as exc:
        problems.add(path, 0, None, f"cannot be read: {exc.strerror}")
        return pd.DataFrame(columns=fmt.column_names)
    with handle:
        reader = csv.reader(handle)
        try:
            header = [name.strip() for name in next(reader, [])]
        except csv.Error as exc:
            problems.add(path, 1, None, f"is not a CSV file: {exc}")
            return pd.DataFrame(columns=fmt.column_names)
        if any(_not_utf8(name) for name in header):
            problems.add(path, 1, None, f"the header {_not_utf8(','.join(header))}")
            return pd.DataFrame(columns=fmt.column_names)
        known = set(fmt.column_names)
        for name in header:
            if name not in known:
                expected = ", ".join(fmt.column_names)
                problems.add(path, 1, name, f"unknown column (expected: {expected})")
        for column in fmt.columns:
            if column.required and column.name not in header:
                problems.add(path, 1, column.name, "required column is missing")
        if len(set(header)) != len(header):
            problems.add(path, 1, None, "a column name appears twice in the header")
        if any(p.startswith(f"{path.name}:1:") for p in problems.items):
            return pd.DataFrame(columns=fmt.column_names)

        columns = [c for c in fmt.columns if c.name in header]
        position = {name: i for i, name in enumerate(header)}
        line = 1
        try:
            for cells in reader:
                line = reader.line_num
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) != len(header):
                    problems.add(path, line, None,
                                 f"has {len(cells)} fields, the header has {len(header)}")
                    continue
                row = {}
                for column in columns:
                    raw = cells[position[column.name]].strip()
                    invalid = _not_utf8(raw) or _too_long(raw)
                    if invalid:
                        problems.add(path, line, column.name, invalid)
                        row[column.name] = None
                        continue
                    if not raw:
                        if column.required:
                            problems.add(path, line, column.name, "required value is missing")
                        row[column.name] = [] if column.kind == "list" else None
                        continue
                    try:
                        row[column.name] = _parse_value(raw, column, timezones)
                    except ValueError as exc:
                        problems.add(path, line, column.name, str(exc))
                        row[column.name] = None
                rows.append(row)
                lines.append(line)
        except csv.Error as exc:
            reason = (f"a field is longer than {CSV_FIELD_LIMIT // 2**20} MB (an unclosed quote?)"
                      if "field larger than field limit" in str(exc) else str(exc))
            problems.add(path, line + 1, None, f"cannot be parsed from here on: {reason}",
                         whole_file=True)

    frame = pd.DataFrame(rows, columns=fmt.column_names, dtype=object)
    for column in fmt.columns:
        if column.name not in header:
            frame[column.name] = [[] if column.kind == "list" else None] * len(frame)
    if "active" in frame:
        frame["active"] = [True if v is None else v for v in frame["active"]]
    frame.index = lines
    _check_duplicates(path, fmt, frame, problems)
    return frame


def _not_utf8(raw: str) -> str | None:
    """The reason a cell read with ``surrogateescape`` holds bytes that are not UTF-8."""
    bad = [ord(c) - 0xDC00 for c in raw if 0xDC80 <= ord(c) <= 0xDCFF]
    if not bad:
        return None
    shown = " ".join(f"0x{b:02x}" for b in bad[:4])
    return f"contains bytes that are not UTF-8 ({shown}); save the file as UTF-8"


def _too_long(raw: str) -> str | None:
    if len(raw) <= MAX_FIELD_CHARS:
        return None
    return f"is {len(raw):,} characters long, more than the {MAX_FIELD_CHARS:,} allowed"


def _check_duplicates(path: Path, fmt: FileFormat, frame: pd.DataFrame,
                      problems: Problems) -> None:
    keys = frame[list(fmt.key)].astype(str)
    duplicated = keys.duplicated(keep="first")
    first_line = {tuple(k): line for line, k in zip(frame.index, keys.itertuples(index=False),
                                                    strict=True)
                  if not duplicated.get(line, False)}
    for line in frame.index[duplicated.to_numpy()]:
        key = tuple(keys.loc[line])
        label = ", ".join(fmt.key)
        problems.add(path, line, fmt.key[0],
                     f"duplicate {label} {key if len(key) > 1 else key[0]!r} "
                     f"(first on line {first_line.get(key, '?')})")


def _check_rows(path: Path, frame: pd.DataFrame, problems: Problems, time_pairs) -> None:
    """Cross-column rules (later time not before earlier one, active pairings not ended, a
    mentor's answer only to a request)."""
    for earlier, later in time_pairs:
        for line, a, b in zip(frame.index, frame[earlier], frame[later], strict=True):
            if a is not None and b is not None and b < a:
                problems.add(path, line, later, f"is before {earlier}")
    if "status" in frame:
        for line, status, ended in zip(frame.index, frame["status"], frame["ended_at"],
                                       strict=True):
            if status == "active" and ended is not None:
                problems.add(path, line, "ended_at", "an active pairing cannot have ended")
    if "mentor_response" in frame:
        for line, action, response in zip(frame.index, frame["action"],
                                          frame["mentor_response"], strict=True):
            if response is not None and action is not None and action != "accepted":
                problems.add(path, line, "mentor_response",
                             f"only an accepted recommendation (a request sent) has a mentor's "
                             f"answer; this row's action is '{action}'")


def _check_references(path: Path, frame: pd.DataFrame, problems: Problems,
                      mentees: set[str], mentors: set[str], left_out: set[str]) -> None:
    """Rows naming people neither in the database nor in the files (``left_out``: ids whose
    own rows were skipped for a problem)."""
    def reason(kind: str, person: str) -> str:
        if person in left_out:
            return f"{kind} {person!r} is left out for the problem on its own row"
        return f"unknown {kind} {person!r}"

    for line, mentee, mentor in zip(frame.index, frame["mentee_id"], frame["mentor_id"],
                                    strict=True):
        if mentee is not None and mentee not in mentees:
            problems.add(path, line, "mentee_id", reason("mentee", mentee))
        if mentor is not None and mentor not in mentors:
            problems.add(path, line, "mentor_id", reason("mentor", mentor))


def import_files(engine: Engine, mentors: Path | None, mentees: Path | None,
                 interactions: Path | None, feedback: Path | None = None, *,
                 published_only: bool = False, skip_report: Path | None = None) -> LoadReport:
    """Validate the given files completely, then load them in one transaction.

    With ``published_only`` every feedback row must also answer a recommendation matcher
    published (see :func:`import_feedback`). With ``skip_report``, rows with a problem are
    left out (and so are rows naming a person left out), the rest is loaded, and every
    problem is written to that file; a file that cannot be read at all, or has a bad
    header, still stops the import with nothing written."""
    problems = Problems()
    skipping = skip_report is not None
    paths = {name: Path(p) for name, p in (("mentors", mentors), ("mentees", mentees),
                                            ("interactions", interactions),
                                            ("feedback", feedback)) if p is not None}
    with engine.begin() as conn:
        timezones = set(loader.timezone_offsets(conn))
        mentee_names, mentor_names = loader.external_ids(conn)
        known_mentors, known_mentees = set(mentor_names.values()), set(mentee_names.values())

        frames = {name: read_file(path, FORMATS[name], timezones, problems)
                  for name, path in paths.items()}
        left_out: set[str] = set()  # people whose own rows are skipped
        for name, known in (("mentors", known_mentors), ("mentees", known_mentees)):
            if name not in frames:
                continue
            ids = frames[name][FORMATS[name].key[0]].dropna()
            if skipping:
                frames[name] = problems.without_bad_rows(paths[name], frames[name])
                kept = ids[ids.index.isin(frames[name].index)]
                left_out |= set(ids) - set(kept)
                ids = kept
            known |= set(ids)
        for name, times in (("interactions", [("requested_at", "ended_at")]),
                            ("feedback", [("shown_at", "acted_at")])):
            if name in frames:
                _check_rows(paths[name], frames[name], problems, times)
                _check_references(paths[name], frames[name], problems, known_mentees,
                                  known_mentors, left_out)
        if published_only and "feedback" in frames:
            _check_published(conn, paths["feedback"], frames["feedback"], problems,
                             known_mentees, known_mentors)
        problems.raise_if_any(rows_may_be_skipped=skipping)

        if skipping:
            frames = {name: problems.without_bad_rows(paths[name], frame)
                      for name, frame in frames.items()}
        data = Dataset(**{name: frame.reset_index(drop=True) for name, frame in frames.items()})
        report = loader.load(conn, data)
        if skipping:  # before commit: a report that cannot be written rolls the import back
            report.skipped = len(problems.bad_lines)
            _write_skip_report(skip_report, problems, report)
    log.info("import committed: %s", report)
    return report


def _write_skip_report(path: Path, problems: Problems, report: LoadReport) -> None:
    """Every problem of an import that skipped bad rows, one per line, after a summary."""
    lines = [f"matcher import: {report.skipped} row(s) skipped for the "
             f"{len(problems.items)} problem(s) below; everything else was imported.",
             *problems.items]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def import_feedback(engine: Engine, path: Path) -> LoadReport:
    """``matcher feedback import``: feedback on published recommendations, all or nothing.

    Same format and checks as ``matcher import --feedback``, and one more: every row must
    answer a recommendation matcher published (this mentor, this mentee, this rank, in a batch
    published by the time it was shown). Rows that do not are reported with their line, and
    nothing is written. Each row is stored with the batch it answers.
    """
    return import_files(engine, None, None, None, path, published_only=True)


def _check_published(conn, path: Path, frame: pd.DataFrame, problems: Problems,
                     mentees: set[str], mentors: set[str]) -> None:
    """Report feedback rows that answer no published recommendation (rows naming unknown
    people are already reported as such)."""
    complete = frame.dropna(subset=["mentee_id", "mentor_id", "rank", "shown_at"])
    complete = complete[complete["mentee_id"].isin(mentees)
                        & complete["mentor_id"].isin(mentors)]
    unpublished = conn.execute(sql("importer/unpublished_feedback.sql"), {
        "mentee_ids": complete["mentee_id"].tolist(),
        "mentor_ids": complete["mentor_id"].tolist(),
        "ranks": [int(r) for r in complete["rank"]],
        "shown_at": complete["shown_at"].tolist()}).scalars().all()
    for position in unpublished:
        line = complete.index[position - 1]
        row = complete.loc[line]
        problems.add(path, line, "mentor_id",
                     f"no published recommendation of mentor {row['mentor_id']!r} to "
                     f"mentee {row['mentee_id']!r} at rank {row['rank']} by "
                     f"{row['shown_at'].isoformat()} (feedback must answer a published "
                     f"batch; only the newest MATCHER_KEEP_BATCHES are kept)")
