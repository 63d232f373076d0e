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
    listed = pd.MultiIndex.from_frame(chosen[["mentee_id", "mentor_id"]])
    alternates = pool[~pd.MultiIndex.from_frame(pool[["mentee_id", "mentor_id"]]).isin(listed)]
    alternates = alternates.sort_values(["mentee_id", "score", "mentor_id"],
                                        ascending=[True, False, True], kind="stable")
    slots = chosen[chosen["rank"] >= FIRST_EXPLORED_RANK]
    n_slots = slots.groupby("mentee_id").size()
    position = alternates.groupby("mentee_id").cumcount().to_numpy()
    slots_of = n_slots.reindex(alternates["mentee_id"]).fillna(0).to_numpy(int)
    keep = (slots_of > 0) & (position < slots_of * ALTERNATES_PER_SLOT)
    alternates = alternates[keep].assign(
        rank=FIRST_EXPLORED_RANK + position[keep] % slots_of[keep])  # dealt out in turn
    per_slot = alternates.groupby(["mentee_id", "rank"]).size()

    # a stream of its own: nothing else drawing from the same seed (a batch id) may
    # correlate with which slots were explored
    rng = np.random.default_rng([seed, STREAM])
    slot_key = pd.MultiIndex.from_frame(out[["mentee_id", "rank"]])
    available = per_slot.reindex(slot_key).fillna(0).to_numpy(int)
    explorable = (out["rank"].to_numpy() >= FIRST_EXPLORED_RANK) & (available > 0)
    draw = rng.random(len(out))
    pick = np.floor(rng.random(len(out)) * np.maximum(available, 1)).astype(int)
    explored = explorable & (draw < share)
    out.loc[explorable, "propensity"] = 1.0 - share
    if not explored.any():
        return out
    # the pick-th alternate of each explored slot
    alternates = alternates.assign(nth=alternates.groupby(["mentee_id", "rank"]).cumcount())
    wanted = pd.DataFrame({"mentee_id": out["mentee_id"].to_numpy()[explored],
                           "rank": out["rank"].to_numpy()[explored],
                           "nth": pick[explored]})
    drawn = wanted.merge(alternates, on=["mentee_id", "rank", "nth"], how="left",
                         validate="one_to_one")
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
