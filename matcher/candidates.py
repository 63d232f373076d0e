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

Values are float32 sums. The shares of domains and skills and the shared language are one
product of the chunk's mentees, as sparse rows (a person lists a few terms: scipy multiplies
only those; 1/n at each of the mentee's n terms of a kind, 1 at its set of languages), with
one dense 0/1 matrix of terms and language sets by mentor, added in that order; then the
prior; then the shared hours, counted exactly from each mentee's runs of free quarter-hours:
a run from slot ``s`` to ``e`` shares ``C[e] - C[s]`` with a mentor whose free slots before
each slot are counted in ``C``, a few entries per mentee instead of every slot of the week
(mentees whose week is cut into many runs use the dense product of slots). The same
ranking inside PostgreSQL was a per-pair scan of every eligible mentor
(``benchmarks/chunk_benchmark.py`` times the prefilter).
"""

from __future__ import annotations

from datetime import datetime
from functools import cached_property

import numpy as np
from scipy import sparse
from sqlalchemy import Connection

from matcher.db import sql
from matcher.schema import SLOTS_PER_WEEK

#: Shared quarter-hours at which the availability signal is full (8 hours).
SHARED_SLOTS_CAP = 32
#: Prefilter value of a mentor an override pins for the mentee (above any real value).
PINNED = 1e9
#: Mentees whose values are computed and ranked at once: a (mentees x eligible mentors)
#: float32 matrix of 4 MB at 8,000 mentors, revisited by every signal while it is still in
#: the cache (in a scratch timing on the large world, blocks of 128 took three quarters of
#: the time of blocks of 512, and blocks of 64 or 256 no less than 128).
BLOCK = 128
#: Group maxima per candidate kept in :func:`_top_columns`' floor: more groups make a
#: tighter floor (fewer values sorted) for a larger partition of the maxima.
FLOOR_GROUPS_PER_PICK = 4
#: Run ends (starts and ends of runs of free quarter-hours) per mentee of a block, on
#: average, up to which shared hours are summed from the runs: one scalar multiply-add per
#: run end and mentor, where the dense product does a vectorised one per slot and mentor
#: (in a scratch timing against the large world's mentors the two took about as long at 48
#: run ends per mentee; the synthetic mentees have about 5).
RUN_ENDS_PER_MENTEE = 40


def _term_matrix(lists, vocabulary: dict[str, int]) -> np.ndarray:
    """0/1 float32 matrix, a row per vocabulary term and a column per list: which lists name
    the term (unknown terms dropped)."""
    matrix = np.zeros((len(vocabulary), len(lists)), dtype=np.float32)
    marks = [(vocabulary[t], column) for column, terms in enumerate(lists)
             for t in terms if t in vocabulary]
    if marks:
        matrix[tuple(np.array(marks).T)] = 1.0
    return matrix


def _spare(language_rows: int, mentors: int) -> np.ndarray:
    """Unset rows to add to the term matrix: as many as it has rows of language sets, at
    least 8."""
    return np.empty((max(language_rows, 8), mentors), dtype=np.float32)


def _slots(bit_strings) -> np.ndarray:
    """'0101...' availability bitmaps as a 0/1 float32 matrix (one column per slot)."""
    if not bit_strings:
        return np.zeros((0, SLOTS_PER_WEEK), dtype=np.float32)
    raw = np.frombuffer("".join(bit_strings).encode("ascii"), dtype=np.uint8)
    return (raw.reshape(len(bit_strings), SLOTS_PER_WEEK) - ord("0")).astype(np.float32)


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
        # languages a mentee of a block has listed (added as they come, see _language_row),
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
        # as int16 (at most 672): half the bytes of float32 for the shared hours' product
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
        top = np.concatenate([self._top(rows[i:i + BLOCK], n)
                              for i in range(0, len(rows), BLOCK)])
        mentees = np.array([r.id for r in rows], dtype=np.int64)
        row_index = np.repeat(np.arange(len(rows)), (top >= 0).sum(axis=1))
        column = top[top >= 0]
        return mentees[row_index], self.mentor_ids[column]

    def _top(self, rows, n: int) -> np.ndarray:
        """:func:`_top_columns` of ``rows``' values, pins first and excluded mentors out."""
        value = self._values(rows)
        for row, r in enumerate(rows):
            if r.pinned in self._column:  # an admin's manual match is always a candidate
                value[row, self._column[r.pinned]] = PINNED
            excluded = [self._column[m] for m in (*r.requested, *r.blocked)
                        if m in self._column]
            value[row, excluded] = -np.inf
        return _top_columns(value, n)

    def _values(self, rows) -> np.ndarray:
        """Prefilter value of every (mentee row, eligible mentor column), float32 (enough
        for a sum of five signals in [0, 1]; half the memory traffic of float64 on a
        chunk-by-mentors matrix): the shares of domains and skills and the shared language
        in one sparse product (:meth:`_signals`), then the prior and the shared hours
        added in place."""
        value = self._signals(rows) @ self._terms[:self._term_rows]
        value += self._prior
        hours = self._shared_slots(_slots([r.availability for r in rows]))
        np.minimum(hours, SHARED_SLOTS_CAP, out=hours)
        value += hours * np.float32(1 / SHARED_SLOTS_CAP)  # (exact: a power of 2)
        return value

    def _signals(self, rows) -> sparse.csr_matrix:
        """A sparse row per mentee over the rows of the term matrix: 1/n at each of its
        domains and skills that a mentor lists (n: the mentee's own distinct terms of that
        kind, those no eligible mentor has included, so they count but never overlap), and
        1 at the row of its set of languages. Its product with the term matrix is the sum
        of the three signals, added in the order of its columns."""
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
        return sparse.csr_matrix((np.array(shares, dtype=np.float32),
                                  np.array(columns, dtype=np.int32), np.array(ends)),
                                 shape=(len(rows), self._term_rows))

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

    def _shared_slots(self, slots: np.ndarray) -> np.ndarray:
        """Free quarter-hours each mentee (a row of 0/1 ``slots``) shares with each eligible
        mentor, as exact counts: from the mentees' runs of free slots (+1 where a run
        starts, -1 after it ends; minus their product with the mentors' counts before each
        slot, in int16: partial sums stay within +-672), or for mentees with many runs from
        the dense product of slots (float32)."""
        run_ends = np.diff(slots, axis=1, prepend=np.float32(0), append=np.float32(0))
        row, column = np.nonzero(run_ends)  # (in row order: the sparse rows' own layout)
        if len(row) <= RUN_ENDS_PER_MENTEE * len(slots):
            starts = np.zeros(len(slots) + 1, dtype=np.int64)
            np.cumsum(np.bincount(row, minlength=len(slots)), out=starts[1:])
            runs = sparse.csr_matrix((-run_ends[row, column].astype(np.int16), column, starts),
                                     shape=run_ends.shape)
            return runs @ self._slots_before
        return slots @ self._mentor_slots

    @cached_property
    def _mentor_slots(self) -> np.ndarray:
        """Each eligible mentor's 0/1 slots (a row per slot of the week), for the dense
        product: derived from the counts once, when a block first needs them."""
        return np.diff(self._slots_before, axis=0).astype(np.float32)


def _top_columns(value: np.ndarray, n: int) -> np.ndarray:
    """Per row, the columns of the ``n`` largest finite values (none is NaN), largest first
    and ties by lower column; rows with fewer finite values are padded with -1.

    Only the values that can be among a row's best are sorted. The columns are cut into
    groups of consecutive ranges (one group when there are fewer than
    ``FLOOR_GROUPS_PER_PICK * n`` columns), one column of each range per group, and the
    ``n``-th largest group maximum is a floor: ``n`` distinct values reach it, so the row's
    ``n`` largest all do. On the large world about 230 of 7,865 values per row reach it.
    What reaches it is sorted as one integer key per value (:func:`_sort_keys`), with
    numpy's vectorised sort rather than a stable sort of the floats
    (``benchmarks/chunk_benchmark.py`` times the prefilter).
    """
    rows, columns = value.shape
    n = min(n, columns)
    kept, column_of = value, np.broadcast_to(np.arange(columns), value.shape)
    if rows and n:
        group = max(columns // (FLOOR_GROUPS_PER_PICK * n), 1)
        width = columns // group
        maxima = value[:, :width].copy()
        for start in range(width, group * width, width):
            np.maximum(maxima, value[:, start:start + width], out=maxima)
        floor = np.partition(maxima, width - n, axis=1)[:, width - n, None]
        flat = np.flatnonzero(value >= floor)
        row, column = np.divmod(flat, columns)
        counts = np.bincount(row, minlength=rows)
        if 2 * counts.max() <= columns:  # (a row with few finite values keeps them all)
            place = np.arange(len(flat)) - np.repeat(np.cumsum(counts) - counts, counts)
            kept = np.full((rows, counts.max()), -np.inf, dtype=value.dtype)
            kept[row, place] = value.reshape(-1)[flat]
            column_of = np.zeros(kept.shape, dtype=np.int64)
            column_of[row, place] = column
    best = np.sort(_sort_keys(kept, column_of), axis=1)[:, :n]
    return np.where(best >> 32 == _NOTHING, -1, best & 0xFFFFFFFF).astype(np.int64)


def _sort_keys(value: np.ndarray, column: np.ndarray) -> np.ndarray:
    """One uint64 per float32 value that sorts as (value descending, column ascending): the
    value's bits made order-preserving, inverted, above the column. The keys are distinct,
    so numpy's fastest sort (not a stable one) orders the ties by column. -inf
    (:data:`_NOTHING`) comes last; -0.0 ties with 0.0."""
    bits = (np.asarray(value, dtype=np.float32) + np.float32(0)).view(np.uint32)
    ascending = bits ^ np.where(bits >> 31, np.uint32(0xFFFFFFFF), np.uint32(0x80000000))
    return (~ascending).astype(np.uint64) << np.uint64(32) | column.astype(np.uint64)


#: The upper half of :func:`_sort_keys`' key of -inf: a place with no value to keep.
_NOTHING = int(_sort_keys(np.array([-np.inf], np.float32), np.zeros(1))[0] >> np.uint64(32))


def active_mentee_ids(conn: Connection) -> list[int]:
    """Internal ids of the mentees who get recommendations."""
    return list(conn.execute(sql("candidates/active_mentees.sql")).scalars())
