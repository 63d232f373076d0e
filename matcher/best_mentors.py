"""The candidate prefilter's values and selection: each mentee's value for every eligible
mentor, summed in float32, and the columns of its best ``n``.

numpy took a pass over a (mentees x mentors) block per signal, then three more to select
(about 4 ns per value at 7,865 mentors). Here one compiled loop per mentee adds every
signal to its row while the row stays in the cache, and takes the row's group maxima for
the selection's floor on the way; numpy's vectorised partition and sort (faster than a
compiled loop's) then find the floor and order what reaches it. The additions are the ones
:mod:`matcher.candidates` describes, in the same order, so the values are the same floats.

The loops are compiled by numba on first use and cached on disk beside this module (or in
numba's user cache where that is not writable): 5–8 s once per installation, then a
fraction of a second per process. They release Python's interpreter lock, so the nightly
run's scoring threads run them side by side.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: Mentees valued at once: a (mentees x eligible mentors) float32 block of 4 MB at 8,000
#: mentors, selected from while it is still in the cache.
BLOCK = 128
#: Group maxima per candidate kept for the selection's floor: more groups make a tighter
#: floor (fewer values sorted) for a larger partition of the maxima.
FLOOR_GROUPS_PER_PICK = 4
#: The key of a place with no value to keep: after every real key (:func:`_keys`).
_NOTHING = np.uint64(0xFFFFFFFFFFFFFFFF)


def best_columns(n: int, cap: int, terms, term_start, term_row, term_share, prior,
                 slots_before, run_start, run_slot, run_sign, counted_row, counted, set_start,
                 set_column, set_value) -> tuple[np.ndarray, np.ndarray]:
    """Per mentee (each ``*_start`` array holds each mentee's first entry in the arrays
    after it, and one more entry than there are mentees), the columns of its ``n`` best
    mentors, as ``(counts, columns)``: how many it has (fewer than ``n`` when fewer have a
    finite value), then each mentee's, best first and ties by lower column, back to back.

    A mentee's value of mentor ``m``, in float32 and in this order: 0, plus each
    ``term_share`` where the mentor's ``terms[term_row, m]`` is 1 (in the given order), plus
    ``prior[m]``, plus its shared free slots (``sum run_sign * slots_before[run_slot, m]``,
    an exact integer, or ``counted[counted_row[e], m]`` where its ``counted_row`` is not -1)
    capped at ``cap``, over ``cap``; then each ``set_value`` written over
    its ``set_column`` (a pin, then exclusions as -inf: the last write wins).

    Only the values that can be among a mentee's best are sorted. The columns are cut into
    groups of consecutive ranges (one group when there are fewer than
    ``FLOOR_GROUPS_PER_PICK * n`` columns), one column of each range per group, and the
    ``n``-th largest group maximum is a floor: ``n`` distinct values reach it, so the
    mentee's ``n`` largest all do. On the large world about 230 of 7,865 values reach it.
    """
    mentees, mentors = len(term_start) - 1, len(prior)
    n = min(n, mentors)
    if not mentees or not n:
        return np.zeros(mentees, np.int64), np.zeros(0, np.int64)
    group = max(mentors // (FLOOR_GROUPS_PER_PICK * n), 1)
    width = mentors // group
    value = np.empty((min(BLOCK, mentees), mentors), np.float32)
    maxima = np.empty((len(value), width), np.float32)
    best = []
    for first in range(0, mentees, BLOCK):
        rows = min(BLOCK, mentees - first)
        _values(first, cap, terms, term_start, term_row, term_share, prior, slots_before,
                run_start, run_slot, run_sign, counted_row, counted, set_start, set_column,
                set_value, value[:rows], maxima[:rows])
        # (a contiguous copy: one compiled version of _keys, whatever the block's rows)
        floor = np.partition(maxima[:rows], width - n, axis=1)[:, width - n].copy()
        best.append(np.sort(_keys(value[:rows], maxima[:rows], floor, n), axis=1)[:, :n])
    best = np.concatenate(best)
    kept = best != _NOTHING
    return kept.sum(axis=1), (best[kept] & 0xFFFFFFFF).astype(np.int64)


@njit(nogil=True, cache=True)
def _values(first, cap, terms, term_start, term_row, term_share, prior, slots_before,
            run_start, run_slot, run_sign, counted_row, counted, set_start, set_column,
            set_value, value, maxima):
    """Fill ``value``'s rows with the values of mentees ``first``, ``first + 1``, ... (see
    :func:`best_columns`) and ``maxima``'s with their group maxima: column ``j`` the
    largest of the row's values at ``j``, ``j + width``, ... (``width``: ``maxima``'s)."""
    mentors, width = value.shape[1], maxima.shape[1]
    hours = np.empty(mentors, np.int32)
    scale = np.float32(1.0) / np.float32(cap)
    for i in range(value.shape[0]):
        e = first + i
        row = value[i]
        row[:] = 0
        for k in range(term_start[e], term_start[e + 1]):
            term, share = term_row[k], term_share[k]
            for m in range(mentors):
                row[m] += share * np.float32(terms[term, m])
        if counted_row[e] < 0:
            hours[:] = 0
        else:
            hours[:] = counted[counted_row[e]]
        for k in range(run_start[e], run_start[e + 1]):
            slot, sign = run_slot[k], run_sign[k]
            for m in range(mentors):
                hours[m] += sign * np.int32(slots_before[slot, m])
        for m in range(mentors):
            row[m] += prior[m]
            row[m] += np.float32(min(hours[m], cap)) * scale
        for k in range(set_start[e], set_start[e + 1]):
            row[set_column[k]] = set_value[k]
        maxima[i] = row[:width]
        for start in range(width, (mentors // width) * width, width):
            for j in range(width):
                maxima[i, j] = max(maxima[i, j], row[start + j])


@njit(nogil=True, cache=True)
def _keys(value, maxima, floor, n):
    """Per row, one uint64 key per finite value that reaches the row's ``floor``, padded
    with :data:`_NOTHING` (to at least ``n``). Only the columns whose group maximum (``maxima``, see
    :func:`_values`) reaches it are looked at, and the last columns that no group holds.
    A key sorts as (value descending, column ascending): the value's bits made
    order-preserving, inverted, above its column. Keys are distinct, so numpy's fastest
    sort (not a stable one) orders ties by column; -0.0 ties with 0.0."""
    rows, columns = value.shape
    width = maxima.shape[1]
    grouped = (columns // width) * width
    # the lowest value kept per row: its floor, or the lowest finite float when that is -inf
    lowest = np.maximum(floor, np.float32(-3.4028235e38))
    reaching = np.zeros(rows, np.int64)
    position = np.empty((rows, columns), np.int64)
    for r in range(rows):
        kept = 0
        for j in range(width):
            if maxima[r, j] >= lowest[r]:
                for m in range(j, grouped, width):
                    position[r, kept] = m
                    kept += value[r, m] >= lowest[r]
        for m in range(grouped, columns):
            position[r, kept] = m
            kept += value[r, m] >= lowest[r]
        reaching[r] = kept
    keys = np.full((rows, max(reaching.max(), n)), _NOTHING)
    scalar = np.zeros(1, np.float32)
    bits = scalar.view(np.uint32)  # (a float's bits, read through one array)
    for r in range(rows):
        for k in range(reaching[r]):
            m = position[r, k]
            scalar[0] = value[r, m] + np.float32(0)
            ascending = bits[0] ^ (np.uint32(0xFFFFFFFF) if bits[0] >> 31
                                   else np.uint32(0x80000000))
            keys[r, k] = np.uint64(~ascending) << np.uint64(32) | np.uint64(m)
    return keys


def compile_now() -> None:
    """Compile (or load from the cache) the loops with the types the prefilter calls them
    with, on a tiny input: ``python -m matcher.best_mentors`` does it when an image is built,
    so that a container's first night does not."""
    mentees, mentors = 2, 3  # (more than one of each: the same array layouts as a night's)
    starts = np.zeros(mentees + 1, np.int64)
    best_columns(2, 32, np.zeros((1, mentors), np.uint8), starts, np.zeros(0, np.int64),
                 np.zeros(0, np.float32), np.zeros(mentors, np.float32),
                 np.zeros((2, mentors), np.int16), starts, np.zeros(0, np.int64),
                 np.zeros(0, np.int32), np.full(mentees, -1), np.zeros((0, mentors), np.int16),
                 starts, np.zeros(0, np.int64), np.zeros(0, np.float32))


if __name__ == "__main__":
    compile_now()
