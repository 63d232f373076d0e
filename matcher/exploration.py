"""Logged exploration: a small random share of each list, so that feedback can say how
*other* lists would have fared (:mod:`matcher.off_policy`).

A list of deterministic picks gives every shown item a probability of 0 or 1 of being
there, and nothing can be learned about a mentor the policy never shows. So each slot from
rank :data:`FIRST_EXPLORED_RANK` on (rank 1 never moves) is, with probability ``share``,
filled instead by a mentor drawn uniformly from that slot's **alternates**: the mentee's
next-best candidates by score that are not on the list, dealt out to the slots in turn
(:data:`ALTERNATES_PER_SLOT` each), so every alternate belongs to one slot. The probability
with which each shown item was placed at its rank is therefore exact and is logged:

* a pick in a slot that is never explored (ranks above the first explored one, or a slot
  without alternates): 1;
* the policy's own pick in an explorable slot: ``1 - share``;
* an alternate: ``share / (alternates of that slot)``.

Only candidates (eligible mentors, already scored) are ever drawn, and a mentee's list never
names a mentor twice. Pure numpy on frames; deterministic for the same ``seed``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from matcher.chunks import by_mentee_best_first

#: Ranks before this one are never explored (rank 1 never moves).
FIRST_EXPLORED_RANK = 4
#: Alternates each explorable slot draws from.
ALTERNATES_PER_SLOT = 3
#: Salt of exploration's random stream.
STREAM = 0x6578706C


def explore(chosen: pd.DataFrame, pool: pd.DataFrame, share: float, seed: int
            ) -> pd.DataFrame:
    """``chosen`` (one row per published item: mentee_id, mentor_id, rank, score, ...) with
    explored slots filled from ``pool`` (each mentee's scored candidates: mentee_id,
    mentor_id, score, and the other columns ``chosen`` carries; one it lacks is left empty
    on drawn rows), plus ``propensity`` (the
    probability of the item at its rank) and ``explored`` (drawn at random). The explored
    row keeps the slot's ranking ``score``, so lists stay ordered."""
    chosen = chosen.sort_values(["mentee_id", "rank"], kind="stable").reset_index(drop=True)
    out = chosen.assign(propensity=1.0, explored=False)
    if share <= 0 or chosen.empty:
        return out
    # The alternates, on their keys and positions in the pool (only the drawn ones are taken
    # whole, with every feature, at the end), grouped by mentee, best first. A mentee with
    # s slots deals its alternate at place p (0, 1, ... in that order; p < 3s) to the slot
    # of rank FIRST_EXPLORED_RANK + p % s, as that slot's (p // s)-th.
    keys = pool[["mentee_id", "mentor_id", "score"]].assign(pool_row=np.arange(len(pool)))
    listed = pd.MultiIndex.from_frame(chosen[["mentee_id", "mentor_id"]])
    alternates = by_mentee_best_first(
        keys[~pd.MultiIndex.from_frame(keys[["mentee_id", "mentor_id"]]).isin(listed)])
    alternate_mentees = alternates["mentee_id"].to_numpy()
    mentee = out["mentee_id"].to_numpy()
    rank = out["rank"].to_numpy()
    # per published row: its mentee's first alternate, alternates and slots (rows of one
    # mentee are together, chosen being sorted)
    first = np.searchsorted(alternate_mentees, mentee, side="left")
    dealt = np.searchsorted(alternate_mentees, mentee, side="right") - first
    in_slot = rank >= FIRST_EXPLORED_RANK
    starts = np.flatnonzero(np.r_[True, mentee[1:] != mentee[:-1]])
    sizes = np.diff(np.r_[starts, len(mentee)])
    slots = np.repeat(np.add.reduceat(in_slot.astype(np.int64), starts), sizes)
    np.minimum(dealt, ALTERNATES_PER_SLOT * slots, out=dealt)
    # the alternates of the slot at this row's rank: places j, j + s, ... below ``dealt``
    j = rank - FIRST_EXPLORED_RANK
    available = np.where(in_slot & (j < slots),
                         np.maximum((dealt - j + slots - 1) // np.maximum(slots, 1), 0), 0)

    # a stream of its own: nothing else drawing from the same seed (a batch id) may
    # correlate with which slots were explored
    rng = np.random.default_rng([seed, STREAM])
    explorable = in_slot & (available > 0)
    draw = rng.random(len(out))
    pick = np.floor(rng.random(len(out)) * np.maximum(available, 1)).astype(int)
    explored = explorable & (draw < share)
    out.loc[explorable, "propensity"] = 1.0 - share
    if not explored.any():
        return out
    # the pick-th alternate of each explored slot
    place = (first + pick * slots + j)[explored]
    drawn = pool.iloc[alternates["pool_row"].to_numpy()[place]]
    rows = np.flatnonzero(explored)
    for column in chosen.columns:
        if column in ("mentee_id", "rank", "score"):
            continue
        values = out[column].to_numpy(copy=True)
        new = drawn[column].to_numpy() if column in drawn else np.full(len(rows), np.nan)
        if values.dtype.kind in "biu" and new.dtype.kind == "f":
            values = values.astype(float)
        values[rows] = new
        out[column] = values
    out.loc[rows, "propensity"] = share / available[rows]
    out.loc[rows, "explored"] = True
    return out
