"""A plain-pandas reference implementation of every feature, written independently of the
SQL, for checking sql/features/select.sql row by row on small worlds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import sqlalchemy as sa

from matcher.availability import parse_availability, utc_slots
from matcher.features import FEATURES, PRIOR_WEIGHT, RATE_PRIOR

LEVEL_YEARS = {"student": 0, "junior": 2, "mid": 5, "senior": 9, None: None}


def _load(engine):
    with engine.connect() as conn:
        mentors = pd.read_sql(sa.text("SELECT * FROM mentors"), conn).set_index("id")
        mentees = pd.read_sql(sa.text("SELECT * FROM mentees"), conn).set_index("id")
        interactions = pd.read_sql(sa.text("SELECT * FROM interactions"), conn)
        feedback = pd.read_sql(sa.text("SELECT * FROM recommendation_feedback"), conn)
        zones = dict(conn.execute(sa.text(
            "SELECT name, extract(epoch FROM utc_offset)::int / 60 "
            "- CASE WHEN is_dst THEN 60 ELSE 0 END FROM pg_timezone_names")).all())
    return mentors, mentees, interactions, feedback, zones


def _v(value):
    """None for SQL NULL, however pandas spelled it."""
    return None if value is None or (isinstance(value, float) and np.isnan(value)) else value


def reference_features(engine, pairs: pd.DataFrame) -> pd.DataFrame:
    """Features of ``pairs`` (mentee_id, mentor_id, as_of), computed in plain Python."""
    mentors, mentees, interactions, feedback, zones = _load(engine)
    answered = feedback[feedback["action"].isin(["accepted", "declined"])]
    ended = interactions[interactions["status"].isin(["completed", "abandoned"])
                         & interactions["ended_at"].notna()]
    rows = []
    for pair in pairs.itertuples(index=False):
        e, m, t = mentees.loc[pair.mentee_id], mentors.loc[pair.mentor_id], pair.as_of
        ed, md = set(e.domains), set(m.domains)
        es, ms = set(e.skills), set(m.skills)
        e_slots = utc_slots(parse_availability(e.availability), zones[e.timezone])
        m_slots = utc_slots(parse_availability(m.availability), zones[m.timezone])
        diff = abs(zones[e.timezone] - zones[m.timezone])

        before = interactions[(interactions["mentor_id"] == m.name)
                              & (interactions["requested_at"] < t)]
        declined_time = before["ended_at"].fillna(before["requested_at"])
        accepted = int((before["status"] != "declined").sum())
        declined = int(((before["status"] == "declined") & (declined_time < t)).sum())
        done = before[before["ended_at"] < t]
        completed = int((done["status"] == "completed").sum())
        abandoned = int((done["status"] == "abandoned").sum())
        ratings = done["rating"].dropna()
        load = int(((before["status"] != "declined")
                    & (before["ended_at"].isna() | (before["ended_at"] >= t))).sum())
        global_done = ended[ended["ended_at"] < t]
        prior = ((global_done["status"] == "completed").mean() if len(global_done) else RATE_PRIOR)
        answers = answered[answered["acted_at"] < t]
        global_accept = ((answers["action"] == "accepted").mean() if len(answers) else RATE_PRIOR)
        answers = answers[answers["mentor_id"] == m.name]
        mentor_accepted = int((answers["action"] == "accepted").sum())
        mine = interactions[(interactions["mentee_id"] == e.name)
                            & (interactions["requested_at"] < t)]
        mine_declined_time = mine["ended_at"].fillna(mine["requested_at"])
        level = LEVEL_YEARS[_v(e.experience_level)]
        years = m.experience_years
        rows.append({
            "domain_overlap_count": len(ed & md),
            "domain_overlap_share": len(ed & md) / len(ed) if ed else 0.0,
            "skill_coverage": len(es & ms) / len(es) if es else 0.0,
            "skill_jaccard": len(es & ms) / len(es | ms) if es | ms else 0.0,
            "industry_match": int(_v(e.industry) is not None and e.industry == m.industry),
            "shared_hours": sum(a == b == "1" for a, b in zip(e_slots, m_slots, strict=True)) / 4,
            "timezone_diff_hours": min(diff, 1440 - diff) / 60,
            "shared_language": int(bool(set(e.languages) & set(m.languages))),
            "style_match": int(_v(e.preferred_style) is not None
                               and e.preferred_style == _v(m.style)),
            "style_stated": int(_v(e.preferred_style) is not None),
            "seniority_gap": (np.nan if level is None or pd.isna(years) else years - level),
            "mentor_requests": len(before),
            "mentor_acceptance_rate": (accepted / (accepted + declined)
                                       if accepted + declined else np.nan),
            "mentor_completed": completed,
            "mentor_abandoned": abandoned,
            "mentor_success_smoothed": (completed + PRIOR_WEIGHT * prior)
                                       / (completed + abandoned + PRIOR_WEIGHT),
            "mentor_mean_rating": ratings.mean() if len(ratings) else np.nan,
            "mentor_load_ratio": load / m.capacity if m.capacity else np.nan,
            "mentor_recommendation_acceptance": (mentor_accepted + PRIOR_WEIGHT * global_accept)
                                                / (len(answers) + PRIOR_WEIGHT),
            "mentee_requests": len(mine),
            "mentee_declines": int(((mine["status"] == "declined")
                                    & (mine_declined_time < t)).sum()),
        })
    return pd.DataFrame(rows, columns=list(FEATURES)).astype(float)
