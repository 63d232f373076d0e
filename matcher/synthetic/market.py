"""The market simulator: the seeded people use the published lists, and we count the
mentorships that form and succeed, against the planner's bound.

Behaviour (the same for every list policy, so policies are compared fairly):

* each active mentee goes down their list and examines rank r with probability
  ``examine[r]`` (default 1 / log2(r + 1)), sending a request to each examined mentor until
  ``max_requests`` (3) are sent;
* requests arrive in random order; a mentor with a free seat accepts with the pair's true
  acceptance probability (:meth:`TruthModel.acceptance_probability`), a mentor without one
  declines (a request "hitting a full mentor");
* a mentee takes the first acceptance; later requests of a matched mentee are withdrawn;
* an accepted pairing succeeds with the pair's true success probability; a run counts the
  expected successes of the pairings it formed (sum of true p), averaged over ``runs``.

The planner's bound: the best one-shot assignment of active mentees to free seats, each
mentee proposed to one mentor, weighted by true P(accept) x P(success); solved exactly as a
min-cost flow (OR-Tools) over each mentee's ``bound_edges`` best mentors by that weight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from matcher.synthetic.seed import examination_probability

#: Requests a mentee sends at most.
MAX_REQUESTS = 3
#: Mentors per mentee the planner considers (its best by true value).
BOUND_EDGES = 50
#: Integer scale of the flow's costs (OR-Tools takes integer costs).
COST_SCALE = 1_000_000


@dataclass
class MarketOutcome:
    """What people did with one batch of lists, averaged over simulation runs."""

    expected_successes: float
    matches: float
    seats: int
    seats_filled: float
    requests: float
    requests_to_full_mentors: float
    max_lists_per_mentor: int
    seats_of_that_mentor: int
    mentees_listed: int
    #: Mean true P(accept) of the requests that reached a mentor with a free seat.
    accept_when_free: float = float("nan")

    def least_share_to_full(self) -> float:
        """The fewest requests that must hit a full mentor, as a share, for this many requests
        at this acceptance: a mentor with a free seat accepts each request with probability
        p, so the seats take in at most seats / p requests (E[accepted] = E[sum of p over the
        requests that found a free seat] <= seats)."""
        if not self.requests or np.isnan(self.accept_when_free):
            return float("nan")
        if self.accept_when_free <= 0:
            return 0.0
        return max(0.0, 1 - self.seats / (self.accept_when_free * self.requests))

    def as_dict(self) -> dict:
        return {
            "expected_successful_mentorships": round(float(self.expected_successes), 1),
            "matches": round(float(self.matches), 1),
            "seats_filled_share": round(float(self.seats_filled) / max(self.seats, 1), 3),
            "requests": round(float(self.requests), 1),
            "requests_to_full_mentors_share": round(
                float(self.requests_to_full_mentors) / max(float(self.requests), 1), 3),
            "max_lists_per_mentor": self.max_lists_per_mentor,
            "seats_of_that_mentor": self.seats_of_that_mentor,
            "mentees_listed": self.mentees_listed,
            "accept_when_free": round(float(self.accept_when_free), 3),
            "least_share_to_full": round(self.least_share_to_full(), 3),
        }


def simulate(lists: pd.DataFrame, seats: dict[int, int], examine: np.ndarray,
             runs: int = 20, seed: int = 0, max_requests: int = MAX_REQUESTS) -> MarketOutcome:
    """Simulate ``runs`` rounds of people using ``lists``.

    ``lists``: one row per recommendation with ``mentee_id``, ``mentor_id``, ``rank`` (1..K),
    ``p_accept`` and ``p_success`` (the pair's TRUE probabilities). ``seats``: free seats per
    mentor id. ``examine[r - 1]``: P(rank r is examined).
    """
    rng = np.random.default_rng(seed)
    rows = lists.sort_values(["mentee_id", "rank"], kind="stable").reset_index(drop=True)
    mentee = rows["mentee_id"].to_numpy()
    mentor_codes, mentor_ids = pd.factorize(rows["mentor_id"])
    seat_of = np.array([seats.get(int(m), 0) for m in mentor_ids], dtype=np.int64)
    p_accept = rows["p_accept"].to_numpy(float)
    p_success = rows["p_success"].to_numpy(float)
    rank = rows["rank"].to_numpy()
    examine_row = examine[np.minimum(rank, len(examine)) - 1]
    starts = np.r_[0, np.flatnonzero(np.diff(mentee)) + 1]
    mentee_codes = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(rows)]))

    accept_p = p_accept.tolist()
    totals = np.zeros(7)  # successes, matches, filled, requests, to_full, free, p of free
    for _ in range(runs):
        examined = rng.random(len(rows)) < examine_row
        # the first max_requests examined rows of each mentee (rows are in rank order)
        before = np.cumsum(examined) - examined
        before -= before[starts][mentee_codes]
        requested = np.flatnonzero(examined & (before < max_requests))
        order = requested[rng.permutation(len(requested))]
        accepts = rng.random(len(order)) < p_accept[order]
        free = seat_of.copy()
        matched = np.zeros(len(starts), dtype=bool)
        successes = matches = sent = to_full = reached = reached_p = 0.0
        for row, accept in zip(order.tolist(), accepts.tolist(), strict=True):
            who = mentee_codes[row]
            if matched[who]:
                continue  # withdrawn: the mentee has a mentor already
            sent += 1
            m = mentor_codes[row]
            if free[m] <= 0:
                to_full += 1
                continue
            reached += 1
            reached_p += accept_p[row]
            if accept:
                free[m] -= 1
                matched[who] = True
                matches += 1
                successes += p_success[row]
        totals += (successes, matches, matches, sent, to_full, reached, reached_p)
    mean = totals / runs
    per_mentor = np.bincount(mentor_codes, minlength=len(mentor_ids))
    busiest = int(per_mentor.argmax()) if len(per_mentor) else 0
    return MarketOutcome(
        expected_successes=mean[0], matches=mean[1], seats=int(sum(seats.values())),
        seats_filled=mean[2], requests=mean[3], requests_to_full_mentors=mean[4],
        max_lists_per_mentor=int(per_mentor.max()) if len(per_mentor) else 0,
        seats_of_that_mentor=int(seat_of[busiest]) if len(seat_of) else 0,
        mentees_listed=len(starts),
        accept_when_free=mean[6] / mean[5] if mean[5] else float("nan"))


def planner_bound(mentee: np.ndarray, mentor: np.ndarray, weight: np.ndarray,
                  seats: dict[int, int]) -> float:
    """Largest total ``weight`` of an assignment giving each mentee at most one mentor and
    each mentor at most its free seats (exact: min-cost flow)."""
    from ortools.graph.python import min_cost_flow

    mentee_codes, mentee_ids = pd.factorize(mentee)
    mentor_codes, mentor_ids = pd.factorize(mentor)
    n_e, n_m = len(mentee_ids), len(mentor_ids)
    source, sink = n_e + n_m, n_e + n_m + 1
    flow = min_cost_flow.SimpleMinCostFlow()
    capacity = np.array([seats.get(int(m), 0) for m in mentor_ids], dtype=np.int64)
    tails = np.concatenate([np.full(n_e, source), mentee_codes, n_e + np.arange(n_m),
                            [source]])
    heads = np.concatenate([np.arange(n_e), n_e + mentor_codes, np.full(n_m, sink), [sink]])
    capacities = np.concatenate([np.ones(n_e), np.ones(len(weight)), capacity, [n_e]])
    costs = np.concatenate([np.zeros(n_e), -np.round(weight * COST_SCALE), np.zeros(n_m),
                            [0]])  # the last arc lets mentees stay unassigned at no gain
    flow.add_arcs_with_capacity_and_unit_cost(tails.astype(np.int32), heads.astype(np.int32),
                                              capacities.astype(np.int64),
                                              costs.astype(np.int64))
    flow.set_node_supply(source, n_e)
    flow.set_node_supply(sink, -n_e)
    if flow.solve() != flow.OPTIMAL:
        raise RuntimeError("the planner's min-cost flow found no optimum")
    return -flow.optimal_cost() / COST_SCALE


@dataclass
class MarketReport:
    """The published batch in the simulated market, beside the planner's bound."""

    outcome: MarketOutcome
    planner_bound: float

    def lines(self) -> list[str]:
        o = self.outcome.as_dict()
        share = o["expected_successful_mentorships"] / self.planner_bound if (
            self.planner_bound) else float("nan")
        return [f"expected successful mentorships {o['expected_successful_mentorships']:,.1f} "
                f"= {share:.2f} of the planner's bound {self.planner_bound:,.1f}",
                f"matches {o['matches']:,.1f}, seats filled {o['seats_filled_share']:.0%}, "
                f"requests {o['requests']:,.1f} of which {o['requests_to_full_mentors_share']:.0%}"
                f" hit a full mentor",
                f"most lists for one mentor {o['max_lists_per_mentor']:,} (free seats "
                f"{o['seats_of_that_mentor']}), mentees listed {o['mentees_listed']:,}",
                f"requests that found a free seat were accepted with mean true probability "
                f"{o['accept_when_free']:.2f}: at that rate the seats take in at most "
                f"{1 - o['least_share_to_full']:.0%} of the requests sent"]


def bound_for(truth, mentee_ids: np.ndarray, seats: dict[int, int],
              edges_per_mentee: int = BOUND_EDGES) -> float:
    """The planner's bound over each mentee's ``edges_per_mentee`` best mentors with seats."""
    mentor_ids = np.array(sorted(seats), dtype=np.int64)
    columns = pd.Index(truth.mentors.ids).get_indexer(mentor_ids)
    rows = truth.rows_of(mentee_ids)
    me, mo, w = [], [], []
    for lo in range(0, len(rows), 2000):
        part = rows[lo:lo + 2000]
        value = (truth.acceptance_probability(part) * truth.probability(part))[:, columns]
        n = min(edges_per_mentee, value.shape[1])
        top = np.argpartition(-value, n - 1, axis=1)[:, :n]
        me.append(np.repeat(truth.mentees.ids[part], n))
        mo.append(mentor_ids[top].ravel())
        w.append(np.take_along_axis(value, top, axis=1).ravel())
    return planner_bound(np.concatenate(me), np.concatenate(mo), np.concatenate(w), seats)


def evaluate_lists(engine, lists: pd.DataFrame, seats: dict[int, int], runs: int = 20,
                   examine: np.ndarray | None = None, seed: int = 0) -> MarketReport:
    """``lists`` (mentee_id, mentor_id, rank; internal ids) in the simulated market with the
    world's true probabilities, against the planner's bound (synthetic worlds only)."""
    from matcher.synthetic.truth import TruthModel

    truth = TruthModel.from_database(engine)
    k = int(lists["rank"].max()) if len(lists) else 1
    accept, success = truth.pair_values(lists["mentee_id"], lists["mentor_id"])
    outcome = simulate(lists[["mentee_id", "mentor_id", "rank"]].assign(
        p_accept=accept, p_success=success), seats,
        examination_probability(np.arange(1, k + 1)) if examine is None else examine, runs,
        seed)
    return MarketReport(outcome, bound_for(truth, lists["mentee_id"].unique(), seats))


def evaluate_published(engine, runs: int = 20, examine: np.ndarray | None = None,
                       seed: int = 0) -> MarketReport:
    """The published batch in the simulated market (synthetic worlds only)."""
    from matcher.db import sql

    with engine.connect() as conn:
        lists = pd.read_sql(sql("synthetic/published_lists.sql"), conn)
        seats = dict(conn.execute(sql("synthetic/published_seats.sql")).all())
    return evaluate_lists(engine, lists, seats, runs, examine, seed)


def compare_objectives(engine, k: int = 10, runs: int = 20) -> list[str]:
    """Markdown: the lists the current champions would publish now under each objective, in
    the simulated market (for the training report of a synthetic world); no lines where the
    database holds no synthetic world or no success champion."""
    from matcher import registry
    from matcher.db import sql
    from matcher.scoring import ScoreOptions, preview

    with engine.connect() as conn:
        if (conn.execute(sql("synthetic/truth/world.sql")).scalar_one_or_none() is None
                or registry.champion_id(conn) is None):
            return []
    lines = ["## The champions' lists in the market (synthetic truth)", "",
             "What the current champions' lists would form if published now (nothing is "
             "published): each mentee examines rank r with probability 1/log2(r+1) and sends "
             "at most 3 requests; a mentor with a free seat accepts with the true "
             "probability. The planner's bound is the best one-shot assignment of mentees "
             "to free seats.", "",
             "| lists | expected successful mentorships | of the planner's bound | matches "
             "| seats filled | requests to full mentors | most lists for one mentor |",
             "|---|---|---|---|---|---|---|"]
    for objective in ("relevance", "market"):
        lists, seats = preview(engine, ScoreOptions(k=k, objective=objective))
        report = evaluate_lists(engine, lists, {m: s for m, s in seats.items() if s > 0}, runs)
        o = report.outcome.as_dict()
        share = o["expected_successful_mentorships"] / report.planner_bound
        lines.append(f"| {objective} | {o['expected_successful_mentorships']:,.1f} | "
                     f"{share:.2f} of {report.planner_bound:,.1f} | {o['matches']:,.1f} | "
                     f"{o['seats_filled_share']:.0%} | "
                     f"{o['requests_to_full_mentors_share']:.0%} | "
                     f"{o['max_lists_per_mentor']:,} ({o['seats_of_that_mentor']} seats) |")
    return [*lines, ""]
