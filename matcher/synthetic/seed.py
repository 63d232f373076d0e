"""A synthetic mentoring programme with a known ground truth (``matcher seed``).

Deterministic for a given seed and as-of date. People get attributes from
:mod:`matcher.taxonomy`; mentees request mentors they can see fit (and popular ones), mentors
accept or decline depending on fit and load, and accepted pairings succeed with the true
probability of :class:`matcher.truth.TruthModel`. A past recommender's logged lists, with
position bias, become the feedback. The frames are in the CSV interchange format and go
through the same loader as imported files.
"""

from __future__ import annotations

import heapq
import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pandas as pd
from tqdm import tqdm

from matcher import batch_tables, loader
from matcher.availability import parse_availability, utc_slots
from matcher.db import sql
from matcher.errors import MatcherError
from matcher.formats import FEEDBACK, INTERACTIONS, MENTEES, MENTORS
from matcher.loader import Dataset, LoadReport
from matcher.pgcopy import copy_rows
from matcher.synthetic.taxonomy import DOMAIN_SKILLS, DOMAINS, INDUSTRIES, STYLES, TIMEZONES
from matcher.synthetic.truth import (
    ACCEPT_BASE,
    ACCEPT_BUSY,
    ACCEPT_FIT,
    COEFFICIENTS,
    TruthModel,
)

log = logging.getLogger(__name__)

PRESETS = {"tiny": (60, 400), "small": (300, 3_000), "medium": (2_000, 20_000),
           "large": (10_000, 100_000)}
HISTORY_DAYS = 730
TARGET_SUCCESS_RATE = 0.30
FEEDBACK_LIST_LENGTH = 10
CHUNK = 512


@dataclass
class World:
    data: Dataset
    mentor_quality: np.ndarray
    mentor_popularity: np.ndarray
    mentee_motivation: np.ndarray
    coefficients: dict
    seed: int
    as_of: datetime


#: How people answer a shown recommendation (the seeder's past lists and
#: ``matcher simulate-feedback``): an examined one is accepted with probability
#: min(1, ACCEPT_BOOST x true success probability), else declined with DECLINE_SHARE, else
#: ignored; one that is not examined is ignored.
ACCEPT_BOOST = 1.2
DECLINE_SHARE = 0.5


def examination_probability(rank: np.ndarray) -> np.ndarray:
    """Position bias: the chance a recommendation at ``rank`` (1 = top) is looked at."""
    return 1.0 / np.log2(np.asarray(rank, dtype=float) + 1)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _blocks(rng: np.random.Generator, n: int) -> list[str]:
    """Weekly availability in local time: weekday evenings, lunch breaks, weekend mornings."""
    out = []
    patterns = (("mon", "tue", "wed", "thu", "fri"), ("sat", "sun"))
    for _ in range(n):
        blocks = []
        for _ in range(rng.integers(1, 5)):
            if rng.random() < 0.65:
                day = rng.choice(patterns[0])
                start = rng.choice([7 * 60, 12 * 60, 17 * 60, 18 * 60, 19 * 60, 20 * 60])
            else:
                day = rng.choice(patterns[1])
                start = rng.choice([8 * 60, 9 * 60, 10 * 60, 14 * 60, 16 * 60])
            start += 30 * int(rng.integers(0, 2))
            length = 30 * int(rng.integers(2, 7))
            end = min(start + length, 24 * 60)
            blocks.append(f"{day} {_clock(start)}-{_clock(end)}")
        out.append(";".join(dict.fromkeys(blocks)))
    return out


def _pick(rng, options, n, p=None):
    return [options[i] for i in rng.choice(len(options), size=n, p=p)]


def _people(rng: np.random.Generator, n: int, prefix: str, mentor: bool) -> pd.DataFrame:
    domain_weights = 1.0 / np.arange(1, len(DOMAINS) + 1) ** 0.6
    domain_weights /= domain_weights.sum()
    zone_weights = np.array([w for _, w, _ in TIMEZONES], dtype=float)
    zone_weights /= zone_weights.sum()
    zones = rng.choice(len(TIMEZONES), size=n, p=zone_weights)
    all_skills = sorted({s for skills in DOMAIN_SKILLS.values() for s in skills})
    rows = []
    for i in range(n):
        n_domains = rng.choice([1, 2, 3], p=[0.45, 0.4, 0.15] if mentor else [0.6, 0.35, 0.05])
        domains = list(rng.choice(DOMAINS, size=n_domains, replace=False, p=domain_weights))
        pool = sorted({s for d in domains for s in DOMAIN_SKILLS[d]})
        n_skills = int(rng.integers(3, 8)) if mentor else int(rng.integers(0, 6))
        skills = list(rng.choice(pool, size=min(n_skills, len(pool)), replace=False))
        if rng.random() < 0.15:  # an interest outside one's domains
            skills.append(str(rng.choice(all_skills)))
        zone, _, regional = TIMEZONES[zones[i]]
        languages = [] if (regional and rng.random() < 0.2) else ["English"]
        if regional and (not languages or rng.random() < 0.7):
            languages.append(regional)
        rows.append({
            "domains": [str(d) for d in domains],
            "skills": sorted(set(map(str, skills))),
            "industry": None if rng.random() < 0.08 else str(rng.choice(INDUSTRIES)),
            "timezone": zone,
            "languages": languages,
        })
    frame = pd.DataFrame(rows)
    frame.insert(0, f"{prefix}_id", [f"{prefix}-{i + 1:06d}" for i in range(n)])
    frame["availability"] = _blocks(rng, n)
    return frame


def _mentors(rng: np.random.Generator, n: int) -> pd.DataFrame:
    frame = _people(rng, n, "mentor", mentor=True)
    frame["style"] = [None if rng.random() < 0.05 else s for s in _pick(rng, STYLES, n)]
    years = np.clip(np.round(rng.gamma(3.0, 4.0, n)) + 2, 2, 40).astype(object)
    years[rng.random(n) < 0.03] = None
    frame["experience_years"] = years
    frame["capacity"] = rng.choice([0, 1, 2, 3, 4, 5], size=n,
                                   p=[0.03, 0.22, 0.3, 0.25, 0.12, 0.08])
    frame["bio"] = [f"{s or 'flexible'} mentor in {d[0]}" for s, d in
                    zip(frame["style"], frame["domains"], strict=True)]
    frame["active"] = rng.random(n) < 0.92
    return frame[MENTORS.column_names]


def _mentees(rng: np.random.Generator, n: int) -> pd.DataFrame:
    frame = _people(rng, n, "mentee", mentor=False)
    frame["preferred_style"] = [None if rng.random() < 0.4 else s for s in _pick(rng, STYLES, n)]
    frame["experience_level"] = _pick(rng, ("student", "junior", "mid", "senior"), n,
                                      p=[0.25, 0.35, 0.3, 0.1])
    frame["goals"] = [f"grow in {d[0]}" if d else None for d in frame["domains"]]
    frame["active"] = rng.random(n) < 0.85
    return frame[MENTEES.column_names]


def _truth_frames(mentors, mentees, offsets, quality, motivation):
    def prepared(frame, id_column, hidden_name, hidden):
        out = frame.rename(columns={id_column: "external_id"}).copy()
        out["id"] = np.arange(len(frame))
        out["availability_utc"] = [utc_slots(parse_availability(a), offsets[tz]) for a, tz in
                                   zip(frame["availability"], frame["timezone"], strict=True)]
        out[hidden_name] = hidden
        return out

    return (prepared(mentors, "mentor_id", "quality", quality),
            prepared(mentees, "mentee_id", "motivation", motivation))


def _calibrate_intercept(logits: np.ndarray, target: float) -> float:
    """Shift that makes the mean of sigmoid(logits + shift) equal ``target``."""
    low, high = -10.0, 10.0
    for _ in range(60):
        mid = (low + high) / 2
        if np.mean(1 / (1 + np.exp(-(logits + mid)))) < target:
            low = mid
        else:
            high = mid
    return (low + high) / 2


def _logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return float(np.log(p / (1 - p)))


def _simulate_pairings(requests, capacity, shift, start, rng):
    """Mentors accept or decline in time order (fit and load); accepted pairings end
    completed or abandoned, or are still active. Returns rows and the mean true success
    probability of accepted pairings."""
    load = np.zeros(len(capacity), dtype=int)
    endings: list[tuple[float, int]] = []
    rows, accepted_p = [], []
    for day, mentee, mentor, vis, logit in requests:
        while endings and endings[0][0] <= day:
            load[heapq.heappop(endings)[1]] -= 1
        busy = load[mentor] / max(capacity[mentor], 1)
        p_accept = 1 / (1 + np.exp(-(ACCEPT_BASE + ACCEPT_FIT * vis - ACCEPT_BUSY * busy)))
        requested_at = start + timedelta(days=float(day))
        if load[mentor] >= capacity[mentor] or rng.random() >= p_accept:
            ended = requested_at + timedelta(days=float(rng.uniform(0.5, 7)))
            rows.append((mentee, mentor, requested_at, "declined", ended, None))
            continue
        p_success = 1 / (1 + np.exp(-(logit + shift)))
        accepted_p.append(p_success)
        success = rng.random() < p_success
        end_day = day + (rng.uniform(60, 180) if success else rng.uniform(10, 90))
        if end_day >= HISTORY_DAYS:
            status, ended, rating = "active", None, None
        else:
            status = "completed" if success else "abandoned"
            ended = start + timedelta(days=float(end_day))
            rating = (int(rng.choice([3, 4, 5], p=[0.15, 0.4, 0.45])) if success
                      else int(rng.choice([1, 2, 3], p=[0.3, 0.45, 0.25])))
            if rng.random() < 0.25:
                rating = None
        load[mentor] += 1
        heapq.heappush(endings, (end_day, mentor))
        rows.append((mentee, mentor, requested_at, status, ended, rating))
    return rows, float(np.mean(accepted_p)) if accepted_p else TARGET_SUCCESS_RATE


def _top_k(values: np.ndarray, k: int) -> np.ndarray:
    """Column indices of each row's ``k`` largest values, largest first (a partition, then
    a sort of only those ``k``; values are continuous random draws, so ties do not occur)."""
    top = np.argpartition(-values, k - 1, axis=1)[:, :k]
    order = np.argsort(-np.take_along_axis(values, top, axis=1), axis=1)
    return np.take_along_axis(top, order, axis=1)


def build_world(n_mentors: int, n_mentees: int, seed: int, as_of: datetime,
                offsets: dict[str, int], progress: bool = False) -> World:
    """Generate a world; ``offsets`` are standard UTC offsets of the zones (minutes)."""
    rng = np.random.default_rng(seed)
    mentors = _mentors(rng, n_mentors)
    mentees = _mentees(rng, n_mentees)
    quality = rng.normal(0.0, 0.6, n_mentors)
    popularity = rng.lognormal(0.0, 0.8, n_mentors)
    motivation = rng.normal(0.0, 0.5, n_mentees)
    truth_mentors, truth_mentees = _truth_frames(mentors, mentees, offsets, quality, motivation)
    coefficients = dict(COEFFICIENTS)
    truth = TruthModel(truth_mentors, truth_mentees, coefficients)

    start = as_of - timedelta(days=HISTORY_DAYS)
    joined = rng.uniform(0, HISTORY_DAYS - 7, n_mentees)
    n_requests = np.where(rng.random(n_mentees) < 0.75, 1 + rng.poisson(0.7, n_mentees), 0)
    feedback_at = np.where(rng.random(n_mentees) < 0.35,
                           rng.uniform(np.maximum(joined, HISTORY_DAYS - 365), HISTORY_DAYS),
                           np.nan)

    requests: list[tuple[float, int, int, float, float]] = []  # day, mentee, mentor, vis, logit
    shown: list[tuple[int, int, int, float, float]] = []  # mentee, mentor, rank, day, logit
    log_popularity = np.log(popularity)
    chunks = range(0, n_mentees, CHUNK)
    for lo in tqdm(chunks, desc="simulating mentees", unit="chunk", disable=not progress):
        rows = np.arange(lo, min(lo + CHUNK, n_mentees))
        visible = truth.visible_logit(rows)
        hidden_logit = visible + quality[None] + motivation[rows][:, None]
        # Mentees pick mentors they see fit, popular ones more often (Gumbel-max sampling).
        choice = 2.0 * visible + log_popularity[None] + rng.gumbel(size=visible.shape)
        picks = _top_k(choice, 8)
        # A past recommender ranked by visible fit with noise; its lists become feedback.
        past = visible + rng.normal(0, 0.6, visible.shape)
        listed = _top_k(past, FEEDBACK_LIST_LENGTH)
        for r, mentee in enumerate(rows):
            day = joined[mentee]
            for k in range(n_requests[mentee]):
                day += rng.exponential(40.0)
                if day >= HISTORY_DAYS:
                    break
                mentor = picks[r, k]
                requests.append((day, mentee, mentor, visible[r, mentor], hidden_logit[r, mentor]))
            if not np.isnan(feedback_at[mentee]):
                for rank, mentor in enumerate(listed[r], start=1):
                    shown.append((mentee, mentor, rank, feedback_at[mentee],
                                  hidden_logit[r, mentor]))

    requests.sort(key=lambda x: x[0])
    # Calibrate outcome probabilities so that accepted pairings succeed ~30% of the time.
    capacity = mentors["capacity"].to_numpy()
    pairing_seed = int(rng.integers(2**31))
    shift = _calibrate_intercept(np.array([x[4] for x in requests] or [0.0]),
                                 TARGET_SUCCESS_RATE)
    for _ in range(4):
        interactions, mean_p = _simulate_pairings(requests, capacity, shift, start,
                                                  np.random.default_rng(pairing_seed))
        shift += _logit(TARGET_SUCCESS_RATE) - _logit(mean_p)
    interactions, _ = _simulate_pairings(requests, capacity, shift, start,
                                         np.random.default_rng(pairing_seed))
    coefficients["intercept"] += shift
    as_of_cap = lambda t: t if t is None else min(t, as_of)  # noqa: E731
    interactions = [(*x[:4], as_of_cap(x[4]), x[5]) for x in interactions]

    examine = examination_probability(np.arange(1, FEEDBACK_LIST_LENGTH + 1))
    feedback = []
    for mentee, mentor, rank, day, logit in shown:
        shown_at = start + timedelta(days=float(day))
        if rng.random() < examine[rank - 1]:
            p_true = 1 / (1 + np.exp(-(logit + shift)))
            action = ("accepted" if rng.random() < min(1.0, ACCEPT_BOOST * p_true)
                      else "declined" if rng.random() < DECLINE_SHARE else "ignored")
        else:
            action = "ignored"
        acted_at = (min(shown_at + timedelta(days=float(rng.uniform(0.1, 5))), as_of)
                    if action != "ignored" else None)
        feedback.append((mentee, mentor, rank, shown_at, action, acted_at))

    mentor_ids, mentee_ids = mentors["mentor_id"].to_numpy(), mentees["mentee_id"].to_numpy()
    interactions_frame = pd.DataFrame(interactions, columns=["mentee", "mentor", "requested_at",
                                                             "status", "ended_at", "rating"])
    interactions_frame.insert(0, "mentee_id", mentee_ids[interactions_frame.pop("mentee")])
    interactions_frame.insert(1, "mentor_id", mentor_ids[interactions_frame.pop("mentor")])
    feedback_frame = pd.DataFrame(feedback, columns=["mentee", "mentor", "rank", "shown_at",
                                                     "action", "acted_at"])
    feedback_frame.insert(0, "mentee_id", mentee_ids[feedback_frame.pop("mentee")])
    feedback_frame.insert(1, "mentor_id", mentor_ids[feedback_frame.pop("mentor")])
    # the past recommender's accepted rows became requests the history does not hold
    feedback_frame["mentor_response"] = None
    data = Dataset(mentors=mentors, mentees=mentees,
                   interactions=interactions_frame[INTERACTIONS.column_names],
                   feedback=feedback_frame[FEEDBACK.column_names])
    return World(data, quality, popularity, motivation, coefficients, seed, as_of)


@dataclass
class SeedSummary:
    report: LoadReport
    seconds: float
    success_rate: float
    missing_shares: dict[str, float]
    rows: dict[str, int]

    def lines(self) -> list[str]:
        total = sum(self.rows.values())
        out = [f"{name:<14} {count:>9,} rows" for name, count in self.rows.items()]
        out.append(f"success rate (completed / (completed + abandoned)): {self.success_rate:.1%}")
        out.append("missing values: " + ", ".join(
            f"{k} {v:.1%}" for k, v in self.missing_shares.items()))
        out.append(f"{total:,} rows in {self.seconds:.1f} s ({total / self.seconds:,.0f} rows/s)")
        return out


def _truth_rows(world: World):
    mentors = world.data.mentors["mentor_id"]
    mentees = world.data.mentees["mentee_id"]
    return (zip(mentors, world.mentor_quality.round(12), world.mentor_popularity.round(12),
                strict=True),
            zip(mentees, world.mentee_motivation.round(12), strict=True))


def seed_database(engine, n_mentors: int, n_mentees: int, seed: int, as_of: datetime,
                  replace: bool, progress: bool = False) -> SeedSummary:
    """Build a world and load it in one transaction; with ``replace``, existing data goes."""
    started = time.perf_counter()
    with engine.begin() as conn:
        existing = conn.execute(sql("synthetic/seed/existing_rows.sql")).scalar_one()
        if existing and not replace:
            raise MatcherError(f"the database already holds {existing:,} mentors/mentees; "
                               "run `matcher seed --replace` to delete all data and reseed")
        offsets = loader.timezone_offsets(conn)
        world = build_world(n_mentors, n_mentees, seed, as_of, offsets, progress)
        batch_tables.drop_all(conn)
        conn.execute(sql("synthetic/seed/clear_all.sql"))
        report = loader.load(conn, world.data)
        mentor_rows, mentee_rows = _truth_rows(world)
        conn.execute(sql("synthetic/seed/create_truth_stage.sql"))
        copy_rows(conn, "stage_mentor_traits", ["mentor_id", "quality", "popularity"], mentor_rows)
        copy_rows(conn, "stage_mentee_traits", ["mentee_id", "motivation"], mentee_rows)
        conn.execute(sql("synthetic/seed/store_truth.sql"),
                     {"seed": seed, "as_of": as_of, "coefficients": json.dumps(world.coefficients)})
    interactions = world.data.interactions
    ended = interactions["status"].isin(["completed", "abandoned"])
    success = (interactions["status"] == "completed").sum() / max(ended.sum(), 1)
    missing = {
        "mentor industry": world.data.mentors["industry"].isna().mean(),
        "mentor style": world.data.mentors["style"].isna().mean(),
        "mentor experience_years": world.data.mentors["experience_years"].isna().mean(),
        "mentee preferred_style": world.data.mentees["preferred_style"].isna().mean(),
        "rating (ended pairings)": interactions.loc[ended, "rating"].isna().mean(),
    }
    rows = {name: len(getattr(world.data, name))
            for name in ("mentors", "mentees", "interactions", "feedback")}
    return SeedSummary(report, time.perf_counter() - started, float(success), missing, rows)
