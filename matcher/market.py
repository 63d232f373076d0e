"""The market step: lists that form mentorships, not only good lists.

Mentors have few free seats. Lists that send every mentee to the same strong mentors look
accurate and fail: most requests then reach full mentors. This step chooses and orders each
mentee's K so that the expected number of successful mentorships is large, given free seats
and how people read lists:

* **How people read lists** (:mod:`matcher.examination`): rank r is examined with
  probability e_r, estimated from feedback where there is enough of it, else the prior
  1 / log2(r + 1). A mentee sends at most
  :data:`MAX_REQUESTS` requests, so the chance that the item at rank r becomes a request is
  q_r = e_r x P(fewer than MAX_REQUESTS of the ranks above were examined)
  (:func:`request_probability`).
* **Value of listing mentor m for mentee e**: P(accept) x P(success); its request uses one of
  m's seats only if accepted.
* **Congestion** (:func:`solve_lists`): a mentor whose free seats cannot take all its
  accepted requests gives each seat to a random accepted requester, so a request there
  only adds value if the mentee beats the mentor's other requesters
  (:func:`marginal_value`). Each mentee's list is its best response to the market: the K
  candidates adding the most to the expected successful mentorships
  (:func:`estimated_successes`), in that order. Every mentee keeps K recommendations
  whenever they have K candidates.

Pure numpy; deterministic for the same inputs. The synthetic market simulator
(:mod:`matcher.synthetic.market`) judges the result against the truth.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from matcher import examination

#: Requests a mentee sends at most (the behaviour the lists are optimised for).
MAX_REQUESTS = 3
#: Rounds of best response.
ITERATIONS = 60
#: Moving mentees whose marginal values are computed at once: a block's dozen (mentees x
#: pool) temporaries stay in a core's cache.
BLOCK = 2048
#: Threads the blocks of a round run on, shared by the two schedules of best response: the
#: damped one does four times the undamped one's work, so with a thread each the undamped
#: one's core sat idle for most of the step.
BLOCK_THREADS = 2


def request_probability(examine: np.ndarray, max_requests: int = MAX_REQUESTS) -> np.ndarray:
    """q_r: P(the item at rank r is examined and fewer than ``max_requests`` items above it
    were), ranks examined independently."""
    # distribution of the number examined among the ranks above, capped at max_requests
    above = np.zeros(max_requests + 1)
    above[0] = 1.0
    q = np.empty(len(examine))
    for r, e in enumerate(examine):
        q[r] = e * above[:max_requests].sum()
        shifted = np.r_[0.0, above[:-1]]
        shifted[-1] += above[-1]  # "max_requests or more" stays there
        above = (1 - e) * above + e * shifted
    return q


@dataclass
class Pool:
    """Each mentee's candidates as padded (mentees, P) matrices; padding has mentor -1."""

    mentee_ids: np.ndarray
    mentor_ids: np.ndarray      # (mentees, P) mentor id, -1 = no candidate
    mentor_index: np.ndarray    # (mentees, P) index into ``mentors``, -1 = no candidate
    mentors: np.ndarray         # distinct mentor ids
    accept: np.ndarray          # (mentees, P) P(accept)
    success: np.ndarray         # (mentees, P) P(success)
    row: np.ndarray             # (mentees, P) the candidate's position in the frame, -1 = none

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> Pool:
        """``frame``: mentee_id, mentor_id, p_accept, p_success (any order). Each mentee's
        candidates in mentor id order (one stable sort of an integer key per pair)."""
        mentee_codes, mentee_ids = pd.factorize(frame["mentee_id"], sort=True)
        mentor_codes, mentors = pd.factorize(frame["mentor_id"], sort=True)
        order = np.argsort(mentee_codes.astype(np.int64) * len(mentors) + mentor_codes,
                           kind="stable")
        mentee_codes = mentee_codes[order]
        counts = np.bincount(mentee_codes, minlength=len(mentee_ids))
        column = np.arange(len(order)) - np.repeat(np.cumsum(counts) - counts, counts)
        shape = (len(mentee_ids), int(counts.max()) if len(order) else 0)

        def padded(values, fill, dtype):
            out = np.full(shape, fill, dtype=dtype)
            out[mentee_codes, column] = np.asarray(values)[order]
            return out

        return cls(np.asarray(mentee_ids), padded(frame["mentor_id"], -1, np.int64),
                   padded(mentor_codes, -1, np.int64), np.asarray(mentors),
                   padded(frame["p_accept"], 0.0, float), padded(frame["p_success"], 0.0, float),
                   padded(np.arange(len(order)), -1, np.int64))

    def rows(self, index: np.ndarray) -> Pool:
        """The same market seen from the mentees ``index`` only (same mentors)."""
        return Pool(self.mentee_ids[index], self.mentor_ids[index], self.mentor_index[index],
                    self.mentors, self.accept[index], self.success[index], self.row[index])


def _plain_lists(pool: Pool, k: int) -> np.ndarray:
    """(mentees, min(k, P)) column indices of each mentee's K by P(accept) x P(success),
    best first; ties by mentor id (columns are in mentor id order)."""
    value = np.where(pool.mentor_index >= 0, pool.accept * pool.success, -np.inf)
    return np.argsort(-value, axis=1, kind="stable")[:, :min(k, value.shape[1])]


def estimated_successes(pool: Pool, columns: np.ndarray, q: np.ndarray,
                        seats: np.ndarray) -> float:
    """A fluid estimate of expected successful mentorships: each mentor fills
    min(expected accepted requests, seats), with the mean success of its accepted ones."""
    return _estimate(*_flows(pool, columns, q), seats)


def _estimate(accepted: np.ndarray, successes: np.ndarray, seats: np.ndarray) -> float:
    """:func:`estimated_successes` from the mentors' flows."""
    fill = np.divide(np.minimum(accepted, seats), accepted, out=np.zeros_like(accepted),
                     where=accepted > 0)
    return float((successes * fill).sum())


def marginal_value(pool: Pool, columns: np.ndarray, q: np.ndarray, accepted: np.ndarray,
                   successes: np.ndarray, seats: np.ndarray) -> np.ndarray:
    """(mentees, P) what a request from mentee e to mentor m adds to
    :func:`estimated_successes` (to first order), given everybody else's requests (e's own
    current ones taken out of m's flows). While m's seats can take every accepted request,
    that is P(accept) x P(success); once they cannot, m's seats go to a random accepted
    requester, so the request adds P(accept) x (P(success) - mean success of m's other
    accepted requesters) x seats / accepted requests: positive only if e beats them, and
    close to nothing where m is flooded anyway."""
    rows = np.arange(len(columns))[:, None]
    own_accept = np.zeros(pool.accept.shape)
    own_success = np.zeros(pool.accept.shape)
    weight = q[:columns.shape[1]] * pool.accept[rows, columns]
    own_accept[rows, columns] = weight
    own_success[rows, columns] = weight * pool.success[rows, columns]
    m = np.maximum(pool.mentor_index, 0)
    others = np.maximum(accepted[m] - own_accept, 0.0)
    others_success = np.maximum(successes[m] - own_success, 0.0)
    seat = seats[m]
    mean_success = np.divide(others_success, others, out=np.zeros_like(others),
                             where=others > 0)
    full = others + pool.accept > seat
    gain = np.where(full, pool.accept * (pool.success - mean_success) * seat
                    / np.maximum(others + pool.accept, 1e-12), pool.accept * pool.success)
    return np.where(pool.mentor_index >= 0, gain, -np.inf)


def _flows(pool: Pool, columns: np.ndarray, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Expected accepted requests and their expected successes per mentor."""
    return _totals(_requests(pool, columns, q), len(pool.mentors))


def _requests(pool: Pool, columns: np.ndarray, q: np.ndarray
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(mentees, K) each: for each listed candidate its mentor's index, its expected
    accepted requests (q at its rank x P(accept)) and their expected successes; a list's
    empty places have mentor 0 and weights 0, which add nothing to :func:`_totals`."""
    at = np.arange(len(columns))[:, None] * pool.accept.shape[1] + columns
    mentor = pool.mentor_index.ravel()[at]
    accepted = q[:columns.shape[1]] * pool.accept.ravel()[at]
    accepted[mentor < 0] = 0.0
    return np.maximum(mentor, 0), accepted, accepted * pool.success.ravel()[at]


def _totals(requests: tuple[np.ndarray, np.ndarray, np.ndarray], mentors: int
            ) -> tuple[np.ndarray, np.ndarray]:
    """Per mentor, the sums of :func:`_requests`' two weights."""
    mentor, accepted, successes = (part.ravel() for part in requests)
    return (np.bincount(mentor, weights=accepted, minlength=mentors),
            np.bincount(mentor, weights=successes, minlength=mentors))


def _best_response(pool: Pool, seats: np.ndarray, q: np.ndarray, start: np.ndarray,
                   start_value: np.ndarray, steps: int, groups: int, damping: float,
                   blocks_on: ThreadPoolExecutor | None = None
                   ) -> tuple[np.ndarray, np.ndarray, float]:
    """Rounds of best response from ``start``: ``1/groups`` of the mentees at a time (round
    robin) take the K candidates with the largest :func:`marginal_value`; the mentors' flows
    move ``1 - damping`` of the way to those of the new lists. Returns the lists with the
    largest :func:`estimated_successes` seen, each listed candidate's value when its list
    was chosen (descending along each list), and that estimate. Only the mentees moving in
    a round have their values computed, :data:`BLOCK` at a time, and only their requests
    gathered again for the flows (the same sums, in the same order, as :func:`_flows` of
    every list). A round's blocks are independent (each reads the flows and writes its own
    mentees' rows), so they run on ``blocks_on``'s threads where given."""
    columns, chosen = start, start_value
    best, best_chosen = columns, chosen
    requests = _requests(pool, columns, q)
    accepted, successes = _totals(requests, len(pool.mentors))
    best_value = _estimate(accepted, successes, seats)
    turns = [np.flatnonzero(np.arange(len(columns)) % groups == g) for g in range(groups)]
    blocks = [[(moving[i:i + BLOCK], pool.rows(moving[i:i + BLOCK]))
               for i in range(0, len(moving), BLOCK)] for moving in turns]

    def respond(block: tuple[np.ndarray, Pool]) -> None:
        moving, market = block  # (a block's values need only its own lists)
        value = marginal_value(market, columns[moving], q, accepted, successes, seats)
        fresh = np.argsort(-value, axis=1, kind="stable")[:, :columns.shape[1]]
        columns[moving] = fresh
        chosen[moving] = np.take_along_axis(value, fresh, axis=1)
        for part, fresh_part in zip(requests, _requests(market, fresh, q), strict=True):
            part[moving] = fresh_part

    for t in range(steps):
        columns, chosen = columns.copy(), chosen.copy()
        list((blocks_on.map if blocks_on else map)(respond, blocks[t % groups]))
        new_accepted, new_successes = _totals(requests, len(pool.mentors))
        estimate = _estimate(new_accepted, new_successes, seats)
        if estimate > best_value:
            best, best_chosen, best_value = columns, chosen, estimate
        accepted = damping * accepted + (1 - damping) * new_accepted
        successes = damping * successes + (1 - damping) * new_successes
    return best, best_chosen, best_value


def solve_lists(pool: Pool, seats: np.ndarray, plain: np.ndarray, q: np.ndarray,
                iterations: int = ITERATIONS) -> tuple[np.ndarray, np.ndarray]:
    """Each mentee's list (column indices, best first) by best response to the market,
    starting from ``plain``, the lists by P(accept) x P(success): once damped (half of the
    mentees at a time, flows moving halfway: large markets settle instead of swinging), once
    undamped (a quarter at a time against exact flows: small markets reach the assignment),
    keeping whichever lists have the larger :func:`estimated_successes`. The two run at
    once, and the blocks of their rounds on :data:`BLOCK_THREADS` shared threads. Returns the
    lists and each listed candidate's value when its list was chosen (descending along each
    list).

    The schedule was chosen on the small synthetic world with the seeder's true
    probabilities and holds at medium (benchmarks/market_benchmark.py prints both)."""
    rows = np.arange(len(plain))[:, None]
    value = (pool.accept * pool.success)[rows, plain]
    # (numpy leaves the interpreter lock in its loops)
    with ThreadPoolExecutor(1) as schedule, ThreadPoolExecutor(BLOCK_THREADS) as blocks:
        damped = schedule.submit(_best_response, pool, seats, q, plain, value, iterations,
                                 groups=2, damping=0.5, blocks_on=blocks)
        exact = _best_response(pool, seats, q, plain, value, iterations // 2, groups=4,
                               damping=0.0, blocks_on=blocks)
        columns, chosen, _ = max((damped.result(), exact), key=lambda found: found[2])
    return columns, chosen


@dataclass
class MarketLists:
    #: mentee_id, mentor_id, rank, adjusted, p_accept, p_success, price, and row: the pair's
    #: position in the candidates given
    chosen: pd.DataFrame
    mentors: pd.DataFrame  # mentor_id, free_seats, lists, expected_requests, price
    estimated_successes: float
    estimated_successes_plain: float


def market_lists(candidates: pd.DataFrame, free_seats: dict[int, int], k: int,
                 examine: np.ndarray, iterations: int = ITERATIONS) -> MarketLists:
    """Each mentee's K by congestion-adjusted value. ``candidates``: mentee_id, mentor_id,
    p_accept, p_success (a pool of each mentee's best candidates, eligible mentors only)."""
    pool = Pool.from_frame(candidates)
    seats = np.array([free_seats.get(int(m), 0) for m in pool.mentors], dtype=float)
    q = request_probability(examine[:k] if len(examine) >= k else
                            np.r_[examine, examination.prior(k)[len(examine):]])
    plain = _plain_lists(pool, k)
    columns, value = solve_lists(pool, seats, plain, q, iterations)
    accepted, successes = _flows(pool, columns, q)
    # the success an accepted requester must beat at a full mentor (0 where seats are left)
    prices = np.where(accepted > seats, np.divide(successes, accepted, out=np.zeros_like(
        successes), where=accepted > 0), 0.0)
    rows = np.arange(len(columns))[:, None]
    mentor = pool.mentor_ids[rows, columns]
    listed = mentor >= 0
    price = prices[np.maximum(pool.mentor_index[rows, columns], 0)]
    chosen = pd.DataFrame({
        "mentee_id": np.broadcast_to(pool.mentee_ids[:, None], columns.shape)[listed],
        "mentor_id": mentor[listed],
        "rank": np.broadcast_to(np.arange(1, columns.shape[1] + 1), columns.shape)[listed],
        "adjusted": value[listed],
        "p_accept": pool.accept[rows, columns][listed],
        "p_success": pool.success[rows, columns][listed],
        "price": price[listed],
        "row": pool.row[rows, columns][listed]})
    mentors = pd.DataFrame({"mentor_id": pool.mentors, "free_seats": seats.astype(int),
                            "price": prices}).merge(load_per_mentor(chosen, q), how="left",
                                                    on="mentor_id")
    mentors = mentors.fillna({"lists": 0, "expected_requests": 0.0}).astype({"lists": int})
    return MarketLists(chosen, mentors, estimated_successes(pool, columns, q, seats),
                       estimated_successes(pool, plain, q, seats))


def load_per_mentor(chosen: pd.DataFrame, q: np.ndarray) -> pd.DataFrame:
    """Lists naming each mentor and its expected requests (q of each rank it is listed at),
    for published rows (mentee_id, mentor_id, rank) chosen by any objective."""
    weight = q[np.minimum(chosen["rank"].to_numpy(), len(q)) - 1]
    grouped = chosen.assign(w=weight).groupby("mentor_id")
    return pd.DataFrame({"lists": grouped.size(),
                         "expected_requests": grouped["w"].sum()}).reset_index()
