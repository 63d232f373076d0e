"""Pairwise features, computed from SQL the same way for training and for scoring.

Feature names live here once (:data:`FEATURES`); ``sql/features/select.sql`` computes what
each pair shares (the overlaps of the two people's sets and bitmaps), ``mentor_features.sql``
and ``mentee_features.sql`` the features of one side alone and that side's numbers once per
side row, :func:`pair_features` the pairwise features from both, and ``docs/features.md``
gives each formula. A
:class:`FeatureSession` prepares the per-person bitmaps once per transaction; each build
fills ``feature_pairs`` (from interactions, feedback, candidate generation or a frame),
computes point-in-time history for the pairs' as-of times, and streams the rows out with
``COPY ... TO STDOUT``.
"""

from __future__ import annotations

import logging
from datetime import datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection

from matcher import loader, pgcopy
from matcher.candidates import Prefilter, active_mentee_ids
from matcher.db import sql, sql_text
from matcher.errors import InputError
from matcher.schema import SLOTS_PER_WEEK

log = logging.getLogger(__name__)

#: Features of the pair itself, from what it shares (``sql/features/select.sql``) and each
#: side's numbers (:func:`pair_features`) ...
PAIR_FEATURES: tuple[str, ...] = (
    "domain_overlap_count",
    "domain_overlap_share",
    "skill_coverage",
    "skill_jaccard",
    "industry_match",
    "shared_hours",
    "timezone_diff_hours",
    "shared_language",
    "style_match",
    "style_stated",
    "seniority_gap",
)
#: ... and of one side alone, computed once per (person, as_of) and read once per build
#: (``sql/features/mentor_features.sql``, ``mentee_features.sql``), not once per pair.
MENTOR_FEATURES: tuple[str, ...] = (
    "mentor_requests",
    "mentor_acceptance_rate",
    "mentor_completed",
    "mentor_abandoned",
    "mentor_success_smoothed",
    "mentor_mean_rating",
    "mentor_load_ratio",
    "mentor_recommendation_acceptance",
)
MENTEE_FEATURES: tuple[str, ...] = ("mentee_requests", "mentee_declines")
FEATURES: tuple[str, ...] = PAIR_FEATURES + MENTOR_FEATURES + MENTEE_FEATURES
#: The yes/no pairwise features, the low bits of the ``overlaps`` integer select.sql sends
#: per pair (bit 0 first) ...
FLAG_FEATURES: tuple[str, ...] = ("industry_match", "shared_language", "style_match",
                                  "style_stated")
#: ... then the shared domains and skills, counts of at most this many bits (a programme
#: with more distinct terms of a kind is refused) ...
TERM_COUNT_BITS = 20
#: ... and the shared quarter-hours of the week: that integer's fields (name, first bit, bits).
OVERLAP_FIELDS: tuple[tuple[str, int, int], ...] = (
    ("flags", 0, len(FLAG_FEATURES)), ("domains_shared", 4, TERM_COUNT_BITS),
    ("skills_shared", 24, TERM_COUNT_BITS), ("slots_shared", 44, SLOTS_PER_WEEK.bit_length()))
#: What the pairwise features need of each side, sent once per side row after its own
#: features (mentee_features.sql, mentor_features.sql).
MENTEE_PAIR_INPUTS: tuple[str, ...] = ("n_domains", "n_skills", "skill_count",
                                       "zone_minutes", "seniority")
MENTOR_PAIR_INPUTS: tuple[str, ...] = ("skill_count", "zone_minutes", "experience_years")


#: Mentor rates (success, acceptance of recommendations) shrink towards the programme's own
#: rate as of each pair's time, estimated from the data, with this many pairings' weight
#: (``sql/features/history_*.sql``, ``sql/candidates/eligible.sql``) ...
PRIOR_WEIGHT = 5
#: ... or towards this rate while the programme has no ended pairing (answer) yet.
RATE_PRIOR = 0.3
#: Both, as the bound parameters of the SQL that uses them.
PRIOR_PARAMETERS = {"prior_weight": PRIOR_WEIGHT, "rate_prior": RATE_PRIOR}

#: Candidates kept per mentee for scoring: on the medium synthetic world 200 keep ~96% of
#: the exhaustive oracle top-10 (benchmarks/features_benchmark.py measures it).
MAX_CANDIDATES = 200


def _query(name: str) -> str:
    """The SELECT in ``sql/<name>``, ready to be wrapped in a COPY."""
    return sql_text(name).rstrip().rstrip(";")


class FeatureSession:
    """Feature builds inside one transaction on ``conn`` (temporary tables drop at commit)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        # Sorts and hashes over millions of candidate pairs; only for this transaction.
        conn.exec_driver_sql("SET LOCAL work_mem = '256MB'")
        # No JIT: the planner over-estimates the per-mentee subqueries of the candidate
        # queries, and compiling them cost 0.3 s per chunk of 2,000 mentees on the large
        # world for 15 ms of execution; the feature queries themselves run no faster with it.
        conn.exec_driver_sql("SET LOCAL jit = off")
        conn.execute(sql("features/bitmaps.sql"))
        terms = conn.execute(sql("features/vocabulary_size.sql")).scalar_one()
        if terms >= 1 << TERM_COUNT_BITS:
            raise InputError(f"{terms:,} distinct domains or skills of one kind: the pairwise "
                             f"features count at most {(1 << TERM_COUNT_BITS) - 1:,}")
        self._prefilter: Prefilter | None = None
        #: The as_of whose mentor side is built for every eligible mentor (candidates).
        self._mentors_as_of: datetime | None = None
        #: (ids, side-alone features then MENTOR_PAIR_INPUTS) of the mentor side built
        #: last, by key.
        self._mentor_side: tuple[np.ndarray, np.ndarray] = (
            np.zeros(0, np.int64), np.zeros((0, len(MENTOR_FEATURES + MENTOR_PAIR_INPUTS))))

    def _history(self, mentors: bool) -> None:
        """Point-in-time history of the pairs in feature_pairs: the programme-wide rates and
        the mentor side, read once as built (when ``mentors``; else the one already built is
        reused), then the mentee side."""
        if mentors:
            self.conn.execute(sql("features/history_global.sql"), PRIOR_PARAMETERS)
            self.conn.execute(sql("features/history_mentors.sql"), PRIOR_PARAMETERS)
            self._mentor_side = self._side("mentor", MENTOR_FEATURES + MENTOR_PAIR_INPUTS)
        self.conn.execute(sql("features/history_mentees.sql"), PRIOR_PARAMETERS)

    def _side(self, side: str, columns: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
        """The ids and ``columns`` (side-alone features, then what the pairwise features
        need of that side) of every ``side`` row (mentor or mentee), by key."""
        ints, values = pgcopy.copy_out_arrays(self.conn, _query(f"features/{side}_features.sql"),
                                              ["key", f"{side}_id"], list(columns))
        return ints[f"{side}_id"], values

    def _select(self, pair_ids: bool) -> pd.DataFrame:
        """The features of every pair in feature_pairs: what the pair shares from select.sql,
        each side's own features and numbers gathered from its rows by key, the pairwise
        features from both (:func:`pair_features`); with the pairs' ``pair_id`` when
        ``pair_ids`` (labelled pairs: candidates are told apart by their ids alone)."""
        mentor_ids, mentor_values = self._mentor_side
        mentee_ids, mentee_values = self._side("mentee", MENTEE_FEATURES + MENTEE_PAIR_INPUTS)
        ints, _ = pgcopy.copy_out_arrays(
            self.conn, _query("features/select.sql"),
            ["pair_id", "pair_key", "overlaps"] if pair_ids else ["pair_key", "overlaps"], [])
        mentee_key, mentor_key = ints["pair_key"] >> 32, ints["pair_key"] & 0xFFFFFFFF
        # Column-major, as pandas keeps a block of float columns: the frame wraps the matrix
        # instead of copying it; filled a column at a time (a row-major gather written into
        # it cost 0.09 s per chunk of 400,000 pairs, column by column 0.03 s).
        values = np.empty((len(mentee_key), len(FEATURES)), order="F")
        column = {f: i for i, f in enumerate(FEATURES)}
        inputs = {}
        for features, names, side, key in (
                (MENTOR_FEATURES, MENTOR_PAIR_INPUTS, mentor_values, mentor_key),
                (MENTEE_FEATURES, MENTEE_PAIR_INPUTS, mentee_values, mentee_key)):
            by_column = np.ascontiguousarray(side.T)
            for i, feature in enumerate(features):
                np.take(by_column[i], key, out=values[:, column[feature]])
            inputs[names] = {name: by_column[len(features) + i].take(key)
                             for i, name in enumerate(names)}
        for feature, value in pair_features(ints["overlaps"], inputs[MENTEE_PAIR_INPUTS],
                                            inputs[MENTOR_PAIR_INPUTS]).items():
            values[:, column[feature]] = value
        frame = pd.DataFrame({"mentee_id": mentee_ids[mentee_key],
                              "mentor_id": mentor_ids[mentor_key]})
        if pair_ids:
            frame.insert(0, "pair_id", ints["pair_id"])
        return frame.join(pd.DataFrame(values, columns=list(FEATURES), copy=False))

    def _labelled(self, fill: str, labels: str) -> pd.DataFrame:
        self.conn.execute(sql("features/reset.sql"))
        self._mentors_as_of = None
        self.conn.execute(sql(fill))
        self.conn.execute(sql("features/pair_people.sql"))
        self._history(mentors=True)
        features = self._select(pair_ids=True)
        meta = pd.read_sql(sql(labels), self.conn)
        return meta.merge(features, on="pair_id", how="inner", validate="one_to_one")

    def training_frame(self) -> pd.DataFrame:
        """One row per interaction (request) with ``accepted``/``success`` labels."""
        return self._labelled("features/training_pairs.sql", "features/training_labels.sql")

    def feedback_frame(self) -> pd.DataFrame:
        """One row per shown recommendation with its rank and action."""
        return self._labelled("features/feedback_pairs.sql", "features/feedback_labels.sql")

    def candidate_frame(self, mentee_ids: list[int], as_of: datetime, *,
                        max_candidates: int = MAX_CANDIDATES) -> pd.DataFrame:
        """Candidate pairs for ``mentee_ids`` (internal ids) with their features, in no
        particular order (see :mod:`matcher.candidates` for the rules). Eligible mentors, and
        every one's point-in-time history, are built once per ``as_of`` in this session:
        the chunks of one night share them."""
        if self._prefilter is None or self._prefilter.as_of != as_of:
            self._prefilter = Prefilter(self.conn, as_of, PRIOR_PARAMETERS)
        mentees, mentors = self._prefilter.pairs(mentee_ids, max_candidates)
        stamp = pgcopy.timestamp_value(as_of)
        fresh = self._mentors_as_of != as_of
        if fresh:
            self.conn.execute(sql("features/reset.sql"))
            eligible = self._prefilter.mentor_ids
            pgcopy.copy_in(self.conn, "feature_mentors", {
                "mentor_id": eligible, "as_of": np.full(len(eligible), stamp)})
            self._mentors_as_of = as_of
        else:
            self.conn.execute(sql("features/reset_pairs.sql"))
        # a row per mentee with its candidates (the pairs come grouped by mentee)
        starts = (np.flatnonzero(np.r_[True, mentees[1:] != mentees[:-1]]) if len(mentees)
                  else np.zeros(0, np.int64))
        having = mentees[starts]
        pgcopy.copy_in_groups(self.conn, "feature_pairs", {
            "mentee_id": having, "as_of": np.full(len(having), stamp)},
            {"mentor_ids": mentors}, starts)
        pgcopy.copy_in(self.conn, "feature_mentees", {
            "mentee_id": having, "as_of": np.full(len(having), stamp)})
        self._history(mentors=fresh)
        frame = self._select(pair_ids=False)
        frame.insert(2, "as_of", pd.Timestamp(as_of))
        return frame


def pair_features(overlaps: np.ndarray, mentee: dict[str, np.ndarray],
                  mentor: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """:data:`PAIR_FEATURES` of each pair from what it shares (select.sql's ``overlaps``,
    :data:`OVERLAP_FIELDS`) and its two sides' numbers (:data:`MENTEE_PAIR_INPUTS`,
    :data:`MENTOR_PAIR_INPUTS`), as docs/features.md gives them: a few vectorised operations
    per chunk, where PostgreSQL would evaluate and send each value once per pair."""
    shared = {name: (overlaps >> first) & ((1 << bits) - 1)
              for name, first, bits in OVERLAP_FIELDS}
    domains = shared["domains_shared"].astype(np.float64)
    skills = shared["skills_shared"].astype(np.float64)
    union = mentee["skill_count"] + mentor["skill_count"] - skills
    apart = np.abs(mentee["zone_minutes"] - mentor["zone_minutes"])
    features = {
        "domain_overlap_count": domains,
        "domain_overlap_share": domains / mentee["n_domains"],
        "skill_coverage": skills / mentee["n_skills"],
        "skill_jaccard": np.divide(skills, union, out=np.zeros_like(skills), where=union != 0),
        "shared_hours": shared["slots_shared"] / 4.0,
        "timezone_diff_hours": np.minimum(apart, 1440 - apart) / 60.0,
        "seniority_gap": mentor["experience_years"] - mentee["seniority"],
    }
    for bit, feature in enumerate(FLAG_FEATURES):
        features[feature] = (shared["flags"] >> bit) & 1
    return features


def export_csv(conn: Connection, kind: str, path, as_of: datetime, chunk_size: int = 2000,
               progress: bool = False) -> int:
    """Write training or candidate feature rows to ``path`` (CSV), chunk by chunk.

    Columns: mentee_id and mentor_id (the programme's ids), as_of, the label columns for
    training, then one column per feature. Returns the number of rows written.
    """
    from tqdm import tqdm

    session = FeatureSession(conn)
    rename = {"mentee_external_id": "mentee_id", "mentor_external_id": "mentor_id"}

    def tidy(frame: pd.DataFrame, labels: list[str]) -> pd.DataFrame:
        frame = frame.drop(columns=["mentee_id", "mentor_id"]).rename(columns=rename)
        return frame[["mentee_id", "mentor_id", "as_of", *labels, *FEATURES]]

    if kind == "training":
        frame = tidy(session.training_frame(), ["accepted", "success"])
        frame.to_csv(path, index=False)
        return len(frame)
    mentee_names, mentor_names = loader.external_ids(conn)
    mentees = active_mentee_ids(conn)
    written = 0
    chunks = range(0, len(mentees), chunk_size)
    for start in tqdm(chunks, desc="candidate features", unit="chunk", disable=not progress):
        frame = session.candidate_frame(mentees[start:start + chunk_size], as_of)
        frame = frame.sort_values(["mentee_id", "mentor_id"]).assign(
            mentee_external_id=lambda f: f["mentee_id"].map(mentee_names),
            mentor_external_id=lambda f: f["mentor_id"].map(mentor_names))
        frame = tidy(frame, [])
        frame.to_csv(path, index=False, mode="w" if start == 0 else "a", header=start == 0)
        written += len(frame)
    return written
