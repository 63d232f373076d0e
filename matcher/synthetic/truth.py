"""The synthetic world's ground truth: the true success probability of any mentee-mentor pair.

It is computed here, in numpy, straight from people's attributes and hidden traits, and never
from matcher's feature SQL, so a bug in the features cannot make a model look better against
the oracle. Training and scoring never read it; evaluation calls :func:`oracle_top_k`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sqlalchemy.engine import Engine

from matcher.db import sql
from matcher.errors import MatcherError
from matcher.synthetic.taxonomy import EXPERIENCE_LEVEL_YEARS

#: Logit weights of the true success probability; ``intercept`` is calibrated per world.
COEFFICIENTS = {
    "intercept": -2.0,
    "domain_share": 1.2,
    "skill_coverage": 2.0,
    "shared_hours": 0.15,      # per shared UTC hour a week, counted up to 8
    "no_shared_language": -1.5,
    "style_match": 0.5,        # mentee stated a style and the mentor has it
    "style_mismatch": -0.3,    # mentee stated a style and the mentor has another
    "seniority_distance": -0.08,  # per year away from a gap of 8 years
    "industry_match": 0.3,
}
#: A mentor with a free seat accepts a request with probability
#: sigmoid(ACCEPT_BASE + ACCEPT_FIT x visible fit - ACCEPT_BUSY x share of seats taken); the
#: visible fit is the visible logit before the world's intercept calibration.
ACCEPT_BASE = 1.0
ACCEPT_FIT = 0.8
ACCEPT_BUSY = 2.5
IDEAL_SENIORITY_GAP = 8.0
MAX_SHARED_HOURS = 8.0
DEFAULT_MENTOR_YEARS = 10.0


def _bitsets(lists, vocabulary: dict[str, int]) -> np.ndarray:
    """(n, words) uint64 bitsets of list-valued attributes."""
    words = max(1, -(-len(vocabulary) // 64))
    out = np.zeros((len(lists), words), dtype=np.uint64)
    for row, items in enumerate(lists):
        for item in items or ():
            position = vocabulary[item]
            out[row, position // 64] |= np.uint64(1) << np.uint64(position % 64)
    return out


def slot_words(bit_strings) -> np.ndarray:
    """(n, 11) uint64 words from 672-character '0'/'1' strings."""
    bits = np.array([np.frombuffer(s.encode(), dtype=np.uint8) - 48 for s in bit_strings],
                    dtype=np.uint8).reshape(len(bit_strings), -1)
    packed = np.packbits(bits, axis=1)
    packed = np.pad(packed, ((0, 0), (0, (-packed.shape[1]) % 8)))
    return packed.view(np.uint64)


def _codes(values, vocabulary: dict[str, int]) -> np.ndarray:
    return np.array([vocabulary.get(v, -1) if isinstance(v, str) else -1 for v in values])


def _unpacked(bitsets: np.ndarray) -> np.ndarray:
    """(n, words) uint64 bitsets as an (n, 64 * words) float32 matrix of 0/1."""
    return np.unpackbits(np.ascontiguousarray(bitsets).view(np.uint8), axis=1).astype(np.float32)


def _common(a: np.ndarray, b_unpacked: np.ndarray) -> np.ndarray:
    """(m, n) popcount of a[i] & b[j]: bitsets a (m, w) against b unpacked by
    :func:`_unpacked`, as one matrix product (BLAS). The counts are exact integers: float32
    holds every integer up to 2**24, and a bitset here has at most 704 bits."""
    return (_unpacked(a) @ b_unpacked.T).astype(np.int32)


@dataclass
class People:
    """Attributes of mentors or mentees as arrays, aligned with ``ids``."""

    ids: np.ndarray
    domains: np.ndarray
    skills: np.ndarray
    languages: np.ndarray
    slots: np.ndarray
    style: np.ndarray
    industry: np.ndarray
    years: np.ndarray
    hidden: np.ndarray  # mentor quality or mentee motivation (logit shift)


class TruthModel:
    """True success probabilities for a world's mentees and mentors."""

    def __init__(self, mentors: pd.DataFrame, mentees: pd.DataFrame, coefficients: dict):
        """Frames carry ``id``, list columns, ``availability_utc`` bit strings, ``style`` /
        ``preferred_style``, ``industry``, ``experience_years`` / ``experience_level`` and the
        hidden ``quality`` / ``motivation``."""
        self.coefficients = coefficients
        vocab = {}
        for column in ("domains", "skills", "languages"):
            terms = sorted({t for frame in (mentors, mentees) for items in frame[column]
                            for t in (items or ())})
            vocab[column] = {t: i for i, t in enumerate(terms)}
        styles = {s: i for i, s in enumerate(sorted(
            set(mentors["style"].dropna()) | set(mentees["preferred_style"].dropna())))}
        industries = {s: i for i, s in enumerate(sorted(
            set(mentors["industry"].dropna()) | set(mentees["industry"].dropna())))}

        def people(frame, style_col, years, hidden_col) -> People:
            return People(
                ids=frame["id"].to_numpy(),
                domains=_bitsets(frame["domains"], vocab["domains"]),
                skills=_bitsets(frame["skills"], vocab["skills"]),
                languages=_bitsets(frame["languages"], vocab["languages"]),
                slots=slot_words(frame["availability_utc"].tolist()),
                style=_codes(frame[style_col], styles),
                industry=_codes(frame["industry"], industries),
                years=years,
                hidden=frame[hidden_col].to_numpy(dtype=float),
            )

        mentor_years = pd.to_numeric(mentors["experience_years"]).fillna(DEFAULT_MENTOR_YEARS)
        level_years = mentees["experience_level"].map(EXPERIENCE_LEVEL_YEARS).fillna(2.0)
        self.mentors = people(mentors, "style", mentor_years.to_numpy(float), "quality")
        self.mentees = people(mentees, "preferred_style", level_years.to_numpy(float),
                              "motivation")
        self._mentee_row = {int(i): r for r, i in enumerate(self.mentees.ids)}
        self._mentor_bits = {name: _unpacked(getattr(self.mentors, name))
                             for name in ("domains", "skills", "slots", "languages")}

    def visible_logit(self, mentee_rows: np.ndarray) -> np.ndarray:
        """(len(mentee_rows), n_mentors) logit from visible compatibility alone."""
        c, me, mo = self.coefficients, self.mentees, self.mentors
        a = lambda x: x[mentee_rows][:, None]  # noqa: E731
        common = {name: _common(getattr(me, name)[mentee_rows], bits)
                  for name, bits in self._mentor_bits.items()}
        domain_common, skill_common = common["domains"], common["skills"]
        domain_total = np.bitwise_count(me.domains[mentee_rows]).sum(-1)[:, None]
        skill_total = np.bitwise_count(me.skills[mentee_rows]).sum(-1)[:, None]
        hours = common["slots"] / 4.0
        shared_language = common["languages"] > 0
        preferred = a(me.style)
        style_match = (preferred >= 0) & (preferred == mo.style[None])
        style_mismatch = (preferred >= 0) & (preferred != mo.style[None])
        industry = a(me.industry)
        industry_match = (industry >= 0) & (industry == mo.industry[None])
        gap = mo.years[None] - a(me.years)
        return (
            c["intercept"]
            + c["domain_share"] * domain_common / np.maximum(domain_total, 1)
            + c["skill_coverage"] * skill_common / np.maximum(skill_total, 1)
            + c["shared_hours"] * np.minimum(hours, MAX_SHARED_HOURS)
            + c["no_shared_language"] * ~shared_language
            + c["style_match"] * style_match
            + c["style_mismatch"] * style_mismatch
            + c["seniority_distance"] * np.abs(gap - IDEAL_SENIORITY_GAP)
            + c["industry_match"] * industry_match
        )

    def logit(self, mentee_rows: np.ndarray) -> np.ndarray:
        """Full true logit: visible compatibility plus hidden quality and motivation."""
        return (self.visible_logit(mentee_rows) + self.mentors.hidden[None]
                + self.mentees.hidden[mentee_rows][:, None])

    def probability(self, mentee_rows: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-self.logit(mentee_rows)))

    def acceptance_probability(self, mentee_rows: np.ndarray) -> np.ndarray:
        """(len(mentee_rows), n_mentors) true P(mentor accepts a request) while the mentor has
        free seats (the seeder's rule with no seat taken; a full mentor declines)."""
        calibration = self.coefficients["intercept"] - COEFFICIENTS["intercept"]
        fit = self.visible_logit(mentee_rows) - calibration
        return 1.0 / (1.0 + np.exp(-(ACCEPT_BASE + ACCEPT_FIT * fit)))

    def pair_values(self, mentee_ids, mentor_ids, chunk: int = 2000
                    ) -> tuple[np.ndarray, np.ndarray]:
        """True P(accept) and P(success) of each (mentee_ids[i], mentor_ids[i]) pair,
        computed a chunk of mentees at a time."""
        mentee_ids, mentor_ids = np.asarray(mentee_ids), np.asarray(mentor_ids)
        mentor_index = pd.Index(self.mentors.ids).get_indexer(mentor_ids)
        rows = self.rows_of(mentee_ids)
        accept, success = np.empty(len(rows)), np.empty(len(rows))
        unique = np.unique(rows)
        for lo in range(0, len(unique), chunk):
            part = unique[lo:lo + chunk]
            where = np.flatnonzero(np.isin(rows, part))
            local = np.searchsorted(part, rows[where])
            accept[where] = self.acceptance_probability(part)[local, mentor_index[where]]
            success[where] = self.probability(part)[local, mentor_index[where]]
        return accept, success

    def rows_of(self, mentee_ids) -> np.ndarray:
        return np.array([self._mentee_row[int(i)] for i in mentee_ids], dtype=np.int64)

    def pair_probability(self, mentee_ids, mentor_ids) -> np.ndarray:
        """True probability of each (mentee_ids[i], mentor_ids[i]) pair."""
        return self.pair_values(mentee_ids, mentor_ids)[1]

    @classmethod
    def from_database(cls, engine: Engine) -> TruthModel:
        """Load the truth of the world seeded into ``engine``'s database."""
        with engine.connect() as conn:
            world = conn.execute(sql("synthetic/truth/world.sql")).scalar_one_or_none()
            if world is None:
                raise MatcherError("this database holds no synthetic world "
                                   "(the oracle exists only for `matcher seed` worlds)")
            mentors = pd.read_sql(sql("synthetic/truth/mentors.sql"), conn)
            mentees = pd.read_sql(sql("synthetic/truth/mentees.sql"), conn)
        coefficients = world if isinstance(world, dict) else json.loads(world)
        return cls(mentors, mentees, coefficients)


def oracle_top_k(truth: TruthModel, mentee_id: int, eligible_mentor_ids, k: int = 10):
    """The ``k`` eligible mentors with the highest true probability for ``mentee_id``.

    Returns ``(mentor_ids, probabilities)``, best first.
    """
    eligible = np.asarray(eligible_mentor_ids)
    probabilities = truth.pair_probability(np.full(len(eligible), mentee_id), eligible)
    order = np.argsort(-probabilities, kind="stable")[:k]
    return eligible[order], probabilities[order]
