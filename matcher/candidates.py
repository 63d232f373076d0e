"""Candidate generation for scoring: each mentee's best eligible mentors by a cheap prefilter.

Eligible mentors (``sql/candidates/eligible.sql``) are active, not paused, have free capacity
(lowered by a capacity override where one is in force), were never requested by the mentee
and are not blocked for them by an override (:mod:`matcher.overrides`); a mentor pinned for
the mentee is always among their candidates when eligible. Each mentee keeps its ``n`` best
by the unweighted sum of five signals that each run from 0 to 1:

- share of the mentee's domains the mentor covers,
- share of the mentee's wanted skills the mentor has,
- a shared language (0 or 1),
- shared weekly hours in UTC, capped at 8, over 8,
- the mentor's success rate so far, shrunk towards the global rate.

Ties go to the lower mentor id, so the lists do not depend on how mentees are chunked. Every
eligible mentor gets a value, so a mentee with no overlap at all still gets ``n`` candidates
when ``n`` mentors are eligible.

Values are float32 sums, added in this order: 1/n for each of the mentee's domains the
mentor covers (n: the mentee's own domains), in vocabulary order, then the same for skills,
then 1 for a shared language; then the prior; then the shared hours, counted exactly from
each mentee's runs of free quarter-hours: a run from slot ``s`` to ``e`` shares
``C[e] - C[s]`` with a mentor whose free slots before each slot are counted in ``C``, a few
entries per mentee instead of every slot of the week (a mentee whose week is cut into very
many runs gets one product of its slots with the mentors' instead). The mentees' terms and
runs are sparse rows built here; one compiled loop (:mod:`matcher.best_mentors`) adds them up
against the mentors' 0/1 term matrix and counts, mentee by mentee, and picks the best. The
same ranking inside PostgreSQL was a per-pair scan of every eligible mentor, and in numpy a
pass per signal over a block of mentees by mentors (``benchmarks/chunk_benchmark.py``
times the prefilter).
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

import numpy as np
from sqlalchemy import Connection

from matcher import best_mentors
from matcher.db import sql
from matcher.schema import SLOTS_PER_WEEK

#: Shared quarter-hours at which the availability signal is full (8 hours).
SHARED_SLOTS_CAP = 32
#: Prefilter value of a mentor an override pins for the mentee (above any real value).
PINNED = 1e9
#: Run ends (starts and ends of runs of free quarter-hours) of a mentee above which its
#: shared hours come from a product of its slots with the mentors' instead of its runs:
#: the compiled loop takes a pass over the mentors per run end (about 0.85 µs each at
#: 7,865 mentors), one BLAS thread about 95 µs a mentee for the product of many mentees'
#: slots (scratch timings; the synthetic mentees have about 5 run ends).
RUN_ENDS_PER_MENTEE = 128


def _term_matrix(lists, vocabulary: dict[str, int]) -> np.ndarray:
    """0/1 uint8 matrix, a row per vocabulary term and a column per list: which lists name
    the term (unknown terms dropped)."""
    matrix = np.zeros((len(vocabulary), len(lists)), dtype=np.uint8)
    marks = [(vocabulary[t], column) for column, terms in enumerate(lists)
             for t in terms if t in vocabulary]
    if marks:
        matrix[tuple(np.array(marks).T)] = 1
    return matrix


def _spare(language_rows: int, mentors: int) -> np.ndarray:
    """Unset rows to add to the term matrix: as many as it has rows of language sets, at
    least 8."""
    return np.empty((max(language_rows, 8), mentors), dtype=np.uint8)


def _slots(bit_strings) -> np.ndarray:
    """'0101...' availability bitmaps as a 0/1 int16 matrix (one column per slot)."""
    if not bit_strings:
        return np.zeros((0, SLOTS_PER_WEEK), dtype=np.int16)
    raw = np.frombuffer("".join(bit_strings).encode("ascii"), dtype=np.uint8)
    return (raw.reshape(len(bit_strings), SLOTS_PER_WEEK) - ord("0")).astype(np.int16)


class Prefilter:
    """The eligible mentors as of ``as_of``, loaded once; :meth:`pairs` ranks chunks of mentees."""

    def __init__(self, conn: Connection, as_of: datetime, priors: dict[str, float]) -> None:
        """``priors``: the mentor success-rate prior's bound parameters
        (:data:`matcher.features.PRIOR_PARAMETERS`)."""
        self.conn = conn
        self.as_of = as_of
        rows = conn.execute(sql("candidates/eligible.sql"), {"as_of": as_of, **priors}).all()
        self.mentor_ids = np.array([r.id for r in rows], dtype=np.int64)
        self._vocab = {kind: {t: i for i, t in enumerate(sorted(
            {t for r in rows for t in getattr(r, kind)}))}
            for kind in ("domains", "skills", "languages")}
        # Rows of one term-by-mentor matrix: each domain, each skill, then each set of
        # languages a mentee has listed (added as they come, see _language_row),
        # 0/1 for whether the mentor lists that term or speaks one of those languages.
        domains, skills, self._speaks = (
            _term_matrix([getattr(r, kind) for r in rows], self._vocab[kind])
            for kind in ("domains", "skills", "languages"))
        self._first_skill = len(domains)
        self._term_rows = len(domains) + len(skills)
        self._terms = np.concatenate([domains, skills, _spare(0, len(rows))])
        #: term matrix rows by set of languages (vocabulary positions), and by languages
        #: as a mentee lists them
        self._language_rows: dict[tuple[int, ...], int] = {}
        self._row_of_languages: dict[tuple[str, ...], int | None] = {}
        # each mentor's free quarter-hours before each slot of the week (row s: slots < s),
        # as int16 (at most 672): half the bytes of int32 for the loop to read
        slots = _slots([r.availability for r in rows])
        self._slots_before = np.zeros((SLOTS_PER_WEEK + 1, len(rows)), dtype=np.int16)
        np.cumsum(slots.T, axis=0, dtype=np.int16, out=self._slots_before[1:])
        self._prior = np.array([r.prior for r in rows], dtype=np.float32)
        self._column = {int(m): c for c, m in enumerate(self.mentor_ids)}

    def pairs(self, mentee_ids: list[int], n: int) -> tuple[np.ndarray, np.ndarray]:
        """(mentee ids, mentor ids) of each given active mentee's ``n`` best eligible mentors,
        grouped by mentee in id order, best first within a mentee."""
        rows = self.conn.execute(sql("candidates/mentees.sql"),
                                 {"mentee_ids": list(map(int, mentee_ids)),
                                  "as_of": self.as_of}).all()
        if not rows or not len(self.mentor_ids):
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        signals = self._signals(rows)  # (first: it may add rows of languages to the terms)
        counts, columns = best_mentors.best_columns(
            n, SHARED_SLOTS_CAP, self._terms, *signals, self._prior, self._slots_before,
            *self._runs(rows), *self._overrides(rows))
        mentees = np.array([r.id for r in rows], dtype=np.int64)
        return np.repeat(mentees, counts), self.mentor_ids[columns]

    def _signals(self, rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """A sparse row per mentee over the rows of the term matrix, as (first entry per
        mentee, term rows, shares): 1/n at each of its domains and skills that a mentor
        lists (n: the mentee's own distinct terms of that kind, those no eligible mentor has
        included, so they count but never overlap), and 1 at the row of its set of
        languages. Adding each share where a mentor's term is 1, in this order, sums the
        three signals."""
        domains, skills = self._vocab["domains"], self._vocab["skills"]
        columns, shares, ends = [], [], [0]
        for r in rows:
            for listed, vocabulary, first in ((r.domains, domains, 0),
                                              (r.skills, skills, self._first_skill)):
                wanted = set(listed)
                known = sorted([first + vocabulary[t] for t in wanted if t in vocabulary])
                columns += known
                shares += [1 / max(len(wanted), 1)] * len(known)
            language = self._language_row(r.languages)
            if language is not None:
                columns.append(language)
                shares.append(1.0)
            ends.append(len(columns))
        # (1/n rounded to float64, then to float32, is 1/n rounded to float32)
        return (np.array(ends, dtype=np.int64), np.array(columns, dtype=np.int64),
                np.array(shares, dtype=np.float32))

    def _language_row(self, languages) -> int | None:
        """The term matrix's row of a mentee's languages (those no eligible mentor speaks
        dropped): 1 for each mentor who speaks one of them, added on first use (the spare
        rows for them double when they run out); ``None`` for no known language."""
        listed = tuple(languages)
        if listed not in self._row_of_languages:
            known = tuple(sorted({self._vocab["languages"][t] for t in listed
                                  if t in self._vocab["languages"]}))
            if known and known not in self._language_rows:
                if self._term_rows == len(self._terms):
                    self._terms = np.concatenate([self._terms, _spare(
                        len(self._language_rows), len(self.mentor_ids))])
                self._terms[self._term_rows] = self._speaks[list(known)].max(axis=0)
                self._language_rows[known] = self._term_rows
                self._term_rows += 1
            self._row_of_languages[listed] = self._language_rows.get(known)
        return self._row_of_languages[listed]

    def _overrides(self, rows) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(first entry per mentee, columns, values) written over the mentees' values, in
        order: an admin's manual match pinned above any real value (always a candidate),
        then the mentors the mentee requested or an override blocks, out (-inf)."""
        columns, values, starts = [], [], [0]
        for r in rows:
            if r.pinned in self._column:
                columns.append(self._column[r.pinned])
                values.append(PINNED)
            excluded = [self._column[m] for m in (*r.requested, *r.blocked)
                        if m in self._column]
            columns += excluded
            values += [-np.inf] * len(excluded)
            starts.append(len(columns))
        return (np.array(starts, dtype=np.int64), np.array(columns, dtype=np.int64),
                np.array(values, dtype=np.float32))

    def _runs(self, rows) -> tuple[np.ndarray, ...]:
        """Each mentee's runs of free quarter-hours as (first entry per mentee, slots,
        signs): -1 at the slot where a run starts and +1 at the slot after it ends, so that
        with each mentor's counts of free slots before each slot, ``C[e] - C[s]`` per run
        is the hours they share, exactly, from a few entries per mentee. Then (row per
        mentee or -1, rows): the shared slots of mentees whose week is cut into more than
        :data:`RUN_ENDS_PER_MENTEE` run ends, counted here by one product of their 0/1
        slots with the mentors' (exact in float32), their runs left empty."""
        slots = _slots([r.availability for r in rows])
        run_ends = np.diff(slots, axis=1, prepend=np.int16(0), append=np.int16(0))
        many = np.count_nonzero(run_ends, axis=1) > RUN_ENDS_PER_MENTEE
        counted_row = np.where(many, np.cumsum(many) - 1, -1).astype(np.int64)
        counted = np.zeros((0, len(self.mentor_ids)), dtype=np.int16)
        if many.any():
            counted = (slots[many].astype(np.float32) @ self._mentor_slots).astype(np.int16)
            run_ends[many] = 0
        row, slot = np.nonzero(run_ends)  # (in row order)
        starts = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=len(rows)), out=starts[1:])
        return (starts, slot.astype(np.int64), -run_ends[row, slot].astype(np.int32),
                counted_row, counted)

    @cached_property
    def _mentor_slots(self) -> np.ndarray:
        """Each eligible mentor's 0/1 slots (a row per slot of the week), float32 for the
        product of :meth:`_runs`: derived from the counts once, when a chunk first needs
        them."""
        return np.diff(self._slots_before, axis=0).astype(np.float32)


def active_mentee_ids(conn: Connection) -> list[int]:
    """Internal ids of the mentees who get recommendations."""
    return list(conn.execute(sql("candidates/active_mentees.sql")).scalars())
