"""Scores in, lists out: each mentee's published K chosen from the scored pool, the pure
step between scoring and writing (:mod:`matcher.scoring` runs it on the night's pool, the
off-policy replay and previews on theirs).

* ``market`` objective: :func:`matcher.market.market_lists` (congestion-aware), each pick
  the market step made for a mentor's free seats marked ``moved``;
* ``relevance``: each mentee's top K by score, optionally capping each mentor's exposure
  (:func:`choose`);
* then exploration (:mod:`matcher.exploration`) and pins (:func:`matcher.overrides.apply_pins`),
  and the load each mentor gets (lists, expected requests, congestion price).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import pandas as pd

from matcher import exploration, market, overrides
from matcher.chunks import by_mentee_best_first, rank_within_mentee, top_per_mentee


class ListOptions(Protocol):
    """What choosing lists reads of a run's options (:class:`matcher.scoring.ScoreOptions`)."""

    k: int
    objective: str
    max_exposure: float | None
    explore: float


def chosen_by_mentee(options: ListOptions) -> bool:
    """Whether each mentee's list depends on that mentee's candidates alone (relevance, no
    exposure cap, no exploration): then the lists of a chunk of mentees can be chosen,
    explained and written as soon as the chunk is scored (:func:`pick_lists` on its pool)."""
    return options.objective == "relevance" and not options.max_exposure and not options.explore


def choose_lists(pool: pd.DataFrame, options: ListOptions, free_capacity: dict[int, int],
                 examine: np.ndarray, seed: int = 0, pinned: dict[int, int] | None = None
                 ) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """The published rows (:func:`pick_lists`), their exposure and market figures and the
    load per eligible mentor (:func:`list_figures`)."""
    chosen, figures, prices, missing = pick_lists(pool, options, free_capacity, examine, seed,
                                                  pinned)
    return (chosen, *list_figures(chosen, figures, prices, missing, free_capacity, examine,
                                  options.k))


def pick_lists(pool: pd.DataFrame, options: ListOptions, free_capacity: dict[int, int],
               examine: np.ndarray | None, seed: int = 0, pinned: dict[int, int] | None = None
               ) -> tuple[pd.DataFrame, dict, pd.DataFrame, list[tuple[int, int]]]:
    """The published rows (ranked; with ``options.explore``, some slots drawn at random by
    :func:`matcher.exploration.explore` from ``seed``, each row with its ``propensity``;
    each ``pinned`` mentor at rank 1 of its mentee's list, :func:`overrides.apply_pins`),
    the objective's figures, the market's price per mentor and the (mentee, mentor) pins
    whose mentor was no candidate. ``examine`` (P(rank r is examined)) is read by the market
    objective only."""
    k = options.k
    prices = no_prices()
    figures: dict = {}
    if options.objective == "market":
        result = market.market_lists(
            pool[["mentee_id", "mentor_id", "p_accept"]].assign(p_success=pool["score"]),
            free_capacity, k, examine)
        rows = result.chosen["row"].to_numpy()  # (positions in pool)
        chosen = pd.concat([
            result.chosen.drop(columns=["price", "row"]),
            pool.drop(columns=["mentee_id", "mentor_id", "p_accept"]).iloc[rows].reset_index(
                drop=True)], axis=1)
        # the ranking key: what the pair adds to the expected successful mentorships
        chosen["score"] = chosen.pop("adjusted")
        # picked for the mentor's free seats: not among the mentee's best K by P(success)
        best = top_per_mentee(pool[["mentee_id", "mentor_id", "score"]].reset_index(drop=True),
                              k)
        chosen["moved"] = ~np.isin(rows, best.index.to_numpy())
        figures |= {"estimated_successes": round(result.estimated_successes, 1),
                    "estimated_successes_relevance": round(result.estimated_successes_plain, 1)}
        prices = result.mentors[["mentor_id", "price"]]
    else:
        chosen, plain = choose(pool, k, free_capacity, options.max_exposure)
        chosen = chosen.assign(p_success=chosen["score"], moved=False)
        figures |= plain
    chosen = exploration.explore(chosen, pool.assign(p_success=pool["score"], moved=False),
                                 options.explore, seed)
    chosen, missing = overrides.apply_pins(chosen, pool, pinned or {}, k)
    return chosen, figures, prices, missing


def no_prices() -> pd.DataFrame:
    """The congestion price per mentor of lists chosen without the market step: none."""
    return pd.DataFrame({"mentor_id": pd.Series(dtype="int64"), "price": 0.0})


def list_figures(chosen: pd.DataFrame, figures: dict, prices: pd.DataFrame,
                 missing: list[tuple[int, int]], free_capacity: dict[int, int],
                 examine: np.ndarray, k: int) -> tuple[dict, pd.DataFrame]:
    """``figures`` with the exposure of the published rows ``chosen`` (``pins_not_applied``:
    the ``missing`` pins), and the load per eligible mentor (free seats, lists, expected
    requests, congestion price from ``prices``)."""
    q = market.request_probability(examine[:k])
    figures = figures | exposure_figures(chosen, free_capacity) | {
        "explored": int(chosen["explored"].sum()), "pinned": int(chosen["pinned"].sum()),
        "pins_not_applied": [[int(e), int(m)] for e, m in missing]}
    load = market.load_per_mentor(chosen, q).merge(prices, how="left", on="mentor_id")
    load = load.merge(pd.DataFrame({"mentor_id": list(free_capacity)}), how="right",
                      on="mentor_id").fillna({"lists": 0, "expected_requests": 0.0,
                                              "price": 0.0})
    load["free_seats"] = load["mentor_id"].map(free_capacity).astype(int)
    load["lists"] = load["lists"].astype(int)
    figures["mentors_oversubscribed"] = int((load["expected_requests"]
                                             > load["free_seats"]).sum())
    figures["examination"] = [round(float(e), 3) for e in examine[:k]]
    return figures, load


def choose(pool: pd.DataFrame, k: int, free_capacity: dict[int, int],
           max_exposure: float | None) -> tuple[pd.DataFrame, dict]:
    """K rows per mentee, ranked 1..K by score.

    Without ``max_exposure``: each mentee's best K. With it: a greedy pass over all pairs
    from the highest score down gives a mentor at most ceil(R x free capacity) lists, so a
    mentee can end up with fewer than K when the caps of its good candidates are used up
    (the caps hold; the run counts such mentees). Returns the rows and exposure figures:
    mean score vs plain top-K, Gini of mentor appearances, share of eligible mentors
    recommended, most lists of one mentor.
    """
    plain = top_per_mentee(pool, k)
    if max_exposure is None:
        chosen = plain
    else:
        ordered = pool.sort_values(["score", "mentee_id", "mentor_id"],
                                   ascending=[False, True, True], kind="stable")
        caps = {m: int(np.ceil(max_exposure * f)) for m, f in free_capacity.items()}
        taken_by_mentor: dict[int, int] = {}
        taken_by_mentee: dict[int, int] = {}
        keep = np.zeros(len(ordered), dtype=bool)
        for i, (mentee, mentor) in enumerate(zip(ordered["mentee_id"].to_numpy(),
                                                 ordered["mentor_id"].to_numpy(), strict=True)):
            if (taken_by_mentee.get(mentee, 0) < k
                    and taken_by_mentor.get(mentor, 0) < caps.get(mentor, 0)):
                keep[i] = True
                taken_by_mentee[mentee] = taken_by_mentee.get(mentee, 0) + 1
                taken_by_mentor[mentor] = taken_by_mentor.get(mentor, 0) + 1
        chosen = by_mentee_best_first(ordered[keep])
    # grouped by mentee, best first (as top_per_mentee gives them)
    chosen = chosen.assign(rank=rank_within_mentee(chosen["mentee_id"].to_numpy()) + 1)
    figures = exposure_figures(chosen, free_capacity)
    figures["mean_score_vs_plain_top_k"] = round(float(chosen["score"].mean()
                                                       / plain["score"].mean()), 4)
    return chosen, figures


def exposure_figures(chosen: pd.DataFrame, free_capacity: dict[int, int]) -> dict:
    appearances = chosen["mentor_id"].value_counts().reindex(list(free_capacity), fill_value=0)
    values = np.sort(appearances.to_numpy(dtype=float))
    n = len(values)
    gini = (float((2 * np.arange(1, n + 1) - n - 1) @ values / (n * values.sum()))
            if n and values.sum() else 0.0)
    return {"mentor_appearances_gini": round(gini, 4),
            "mentors_recommended_share": round(float((appearances > 0).mean()), 4)
            if n else 0.0,
            "max_lists_per_mentor": int(appearances.max()) if n else 0}
