"""Why a mentor was recommended, in words a programme admin reads, and as JSON for programs.

Each published row is explained by the model's signed per-feature contributions to its
score: what **helped** (the largest positive contributions) and what **held it back** (the
largest negative ones, when they are sizeable), e.g. "has 3 of the 4 skills asked for;
same time zone; completed 4 of 5 mentorships; despite: no shared language listed". A pick
that the market step moved into the list because the mentor still has room (it is not among
the mentee's best K by P(success) alone) says "has free seats (2 open)" first, and one drawn
at random by logged exploration says so (:data:`EXPLORED`).

The JSON (``recommendations.explanation``) keeps one object per explained feature: name,
value and signed contribution, helped ones first (the words are in ``reasons``). Phrases and
numbers are made a column at a time, once per distinct (feature, value, context), so
explaining a large batch costs little.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Reasons for the pick, at most.
HELPED = 3
#: Reasons against it, at most ...
HELD_BACK = 2
#: ... and only those whose contribution is at least this share of the row's largest one.
HELD_BACK_MIN_SHARE = 0.2


#: What a mentor pinned by an admin's override says first.
PINNED = "matched by the programme (pinned)"
#: What an explored pick says first.
EXPLORED = "a wider pick (one of a few good candidates shown at random, to learn what works)"


@dataclass
class Context:
    """What phrases need beyond the feature values, one entry per row."""

    skills_wanted: np.ndarray   # the mentee's number of wanted skills
    domains_wanted: np.ndarray  # the mentee's number of domains of interest
    free_seats: np.ndarray      # the mentor's free seats when scored
    moved: np.ndarray           # bool: picked for its free seats (market step)
    explored: np.ndarray | None = None  # bool: drawn at random (logged exploration)
    pinned: np.ndarray | None = None    # bool: pinned by an admin's override


def _count(v: float) -> str:
    return f"{v:g}"


def _plural(v: float, word: str) -> str:
    return f"{v:g} {word}" if v == 1 else f"{v:g} {word}s"


def _overlap(wanted: float, share: float, what: str, verb: str, without: str) -> str:
    """"has 2 of the 3 skills asked for", "has all 3 ...", "has both ...", "has the skill
    ...", "lacks the skill asked for", "has none of the skills asked for"."""
    plural = what + "s"
    if share != share:
        return f"{plural} unknown"
    if wanted <= 0:
        return f"no {plural} asked for"
    wanted = int(wanted)
    shared = int(round(share * wanted))
    if shared == 0:
        return f"{without} the {what} asked for" if wanted == 1 else (
            f"{verb} none of the {plural} asked for")
    if shared >= wanted:
        return f"{verb} the {what} asked for" if wanted == 1 else (
            f"{verb} both {plural} asked for" if wanted == 2 else
            f"{verb} all {wanted} {plural} asked for")
    return f"{verb} {shared} of the {wanted} {plural} asked for"


def _fields(wanted: float, share: float) -> str:
    return _overlap(wanted, share, "field", "works in", "works outside")


def _skills(wanted: float, share: float) -> str:
    return _overlap(wanted, share, "skill", "has", "lacks")


def _track_record(row: dict) -> str:
    completed = row.get("mentor_completed", 0.0)
    abandoned = row.get("mentor_abandoned", 0.0)
    completed = 0.0 if math.isnan(completed) else completed
    abandoned = 0.0 if math.isnan(abandoned) else abandoned
    total = completed + abandoned
    if total == 0:
        return "no finished mentorships yet"
    return f"completed {_count(completed)} of {_plural(total, 'mentorship')}"


def _style(row: dict) -> str:
    if row.get("style_match") == 1:
        return "mentors in the style asked for"
    if row.get("style_stated") == 1:
        return "mentors in another style than asked for"
    return "no style preference stated"


def _seniority(v: float) -> str:
    if v >= 0:
        return f"{_plural(v, 'year')} more experience"
    return f"{_plural(-v, 'year')} less experience"


#: feature -> (phrase from its value and the row, what the phrase says when the value is
#: missing). A row's other values are passed for phrases that combine features.
PHRASES: dict[str, tuple[Callable[[float, dict, dict], str], str]] = {
    "domain_overlap_count": (lambda v, row, ctx: _fields(
        ctx["domains_wanted"], row.get("domain_overlap_share", 0.0)), "fields unknown"),
    "domain_overlap_share": (lambda v, row, ctx: _fields(ctx["domains_wanted"], v),
                             "fields unknown"),
    "skill_coverage": (lambda v, row, ctx: _skills(ctx["skills_wanted"], v), "skills unknown"),
    "skill_jaccard": (lambda v, row, ctx: _skills(ctx["skills_wanted"],
                                                  row.get("skill_coverage", 0.0)),
                      "skills unknown"),
    "industry_match": (lambda v, row, ctx: "same industry" if v == 1
                       else "another industry (or none listed)", "industry unknown"),
    "shared_hours": (lambda v, row, ctx: f"{_plural(v, 'free hour')} a week in common" if v > 0
                     else "no free hours in common", "availability unknown"),
    "timezone_diff_hours": (lambda v, row, ctx: "same time zone" if v == 0
                            else f"time zones {_count(v)} hours apart", "time zone unknown"),
    "shared_language": (lambda v, row, ctx: "speaks a language in common" if v == 1
                        else "no shared language listed", "languages unknown"),
    "style_match": (lambda v, row, ctx: _style(row), "style unknown"),
    "seniority_gap": (lambda v, row, ctx: _seniority(v), "experience not listed"),
    "mentor_requests": (lambda v, row, ctx: f"asked by {_plural(v, 'mentee')} before" if v > 0
                        else "not asked by anyone yet", "no requests yet"),
    "mentor_acceptance_rate": (lambda v, row, ctx: f"accepts {v:.0%} of requests",
                               "has not answered a request yet"),
    "mentor_completed": (lambda v, row, ctx: _track_record(row), "no finished mentorships yet"),
    "mentor_abandoned": (lambda v, row, ctx: _track_record(row), "no finished mentorships yet"),
    "mentor_success_smoothed": (lambda v, row, ctx: _track_record(row),
                                "no finished mentorships yet"),
    "mentor_mean_rating": (lambda v, row, ctx: f"rated {v:.1f} of 5 by past mentees",
                           "not rated yet"),
    "mentor_load_ratio": (lambda v, row, ctx: f"{v:.0%} of seats taken",
                          "capacity unknown"),
    "mentor_recommendation_acceptance": (
        lambda v, row, ctx: f"chosen by about {v:.0%} of mentees shown this mentor",
        "not recommended before"),
}

#: Features about the mentee alone say nothing about why this mentor: never shown as reasons.
MENTEE_SIDE = frozenset({"style_stated", "mentee_requests", "mentee_declines"})

#: Features whose phrase reads other values of the row (or the context).
_NEEDS = {
    "domain_overlap_count": ("domain_overlap_share",),
    "skill_jaccard": ("skill_coverage",),
    "style_match": ("style_match", "style_stated"),
    "mentor_completed": ("mentor_completed", "mentor_abandoned"),
    "mentor_abandoned": ("mentor_completed", "mentor_abandoned"),
    "mentor_success_smoothed": ("mentor_completed", "mentor_abandoned"),
}
_CONTEXT = {
    "domain_overlap_count": "domains_wanted", "domain_overlap_share": "domains_wanted",
    "skill_coverage": "skills_wanted", "skill_jaccard": "skills_wanted",
}


def _chosen_columns(contributions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows, HELPED) columns with the largest positive contributions, largest first, and
    (rows, HELD_BACK) with the largest negative ones; -1 where there is none to show."""
    order = np.argsort(-contributions, axis=1, kind="stable")
    helped = order[:, :HELPED].copy()
    helped[np.take_along_axis(contributions, helped, axis=1) <= 0] = -1
    against = np.argsort(contributions, axis=1, kind="stable")[:, :HELD_BACK].copy()
    largest = np.abs(contributions).max(axis=1, keepdims=True)
    weight = np.take_along_axis(contributions, against, axis=1)
    against[(weight >= 0) | (-weight < HELD_BACK_MIN_SHARE * largest)] = -1
    return helped, against


#: Stands for a missing value in the keys phrases are looked up by.
_MISSING = -1.0e300


def _phrases(values: np.ndarray, rows: np.ndarray, column: int, features: list[str],
             context: dict[str, np.ndarray]) -> tuple[np.ndarray, list[str]]:
    """The phrase of ``column`` for each of ``rows``, as codes into the distinct phrases: one
    call of its phrase function per distinct (value, the other values it reads, its
    context)."""
    feature = features[column]
    index = {f: i for i, f in enumerate(features)}
    reads = [f for f in _NEEDS.get(feature, ()) if f in index]
    where = _CONTEXT.get(feature, "")
    columns = [values[rows, column], *(values[rows, index[f]] for f in reads),
               np.asarray(context[where], dtype=float)[rows] if where
               else np.zeros(len(rows))]
    # each column's codes folded into one code per distinct key (re-coded at every step, so
    # it stays below the number of rows)
    codes = np.zeros(len(rows), dtype=np.int64)
    parts = []
    for part in columns:
        part_codes, part_values = pd.factorize(np.nan_to_num(part, nan=_MISSING))
        codes = pd.factorize(codes * len(part_values) + part_codes)[0]
        parts.append((part_codes, part_values))
    _, first, codes = np.unique(codes, return_index=True, return_inverse=True)
    distinct = np.column_stack([values_[codes_[first]] for codes_, values_ in parts])
    phrase, missing = PHRASES.get(feature, (None, f"{feature} unknown"))
    said = []
    for key in np.where(distinct == _MISSING, np.nan, distinct).tolist():
        value, others, extra = key[0], dict(zip(reads, key[1:-1], strict=True)), key[-1]
        if value != value:
            said.append(missing)
        elif phrase is None:
            said.append(f"{feature} {value:g}")
        else:
            said.append(phrase(value, others, {where: extra}))
    return codes.reshape(-1), said


def _numbers(values: np.ndarray) -> np.ndarray:
    """Each value rounded to 4 decimals as JSON writes it (``repr`` of the float), ``null``
    for NaN (each distinct number written once)."""
    codes, distinct = pd.factorize(np.round(values, 4), use_na_sentinel=False)
    text = np.array(["null" if v != v else repr(v) for v in distinct.tolist()], dtype=object)
    return text[codes]


def explain(contributions: np.ndarray, X: np.ndarray, features: list[str],
            context: Context | None = None) -> tuple[list[str], list[str]]:
    """Per row: the JSON explanation and the readable reasons.

    JSON: ``[{"feature": "skill_coverage", "value": 0.75, "contribution": 0.8123}, ...]``,
    the features the reasons name, helped first, then held back (negative contribution);
    the text is what ``json.dumps`` gives. Reasons: the distinct
    phrases of what helped, then ``despite: ...`` what held the pick back. Features about the
    mentee alone (:data:`MENTEE_SIDE`) are never reasons. Phrases and JSON items are made a
    column at a time, so a batch of a million rows costs seconds.
    """
    contributions = np.asarray(contributions, dtype=float)
    values = np.asarray(X, dtype=float)
    n = len(values)
    about_mentor = np.array([f not in MENTEE_SIDE for f in features])
    helped, against = _chosen_columns(np.where(about_mentor, contributions, 0.0))
    chosen = np.concatenate([helped, against], axis=1)  # (n, slots), -1 = nothing
    zeros = np.zeros(n)
    ctx = {"skills_wanted": zeros if context is None else np.asarray(context.skills_wanted),
           "domains_wanted": zeros if context is None else np.asarray(context.domains_wanted)}
    phrase = np.full(chosen.shape, None, dtype=object)
    item = np.full(chosen.shape, "", dtype=object)
    names = [json.dumps(f) for f in features]
    for column in np.unique(chosen[chosen >= 0]):
        rows, slots = np.nonzero(chosen == column)
        codes, said = _phrases(values, rows, int(column), list(features), ctx)
        phrase[rows, slots] = np.asarray(said, dtype=object)[codes]
        item[rows, slots] = (f'{{"feature": {names[column]}, "value": '
                             + _numbers(values[rows, column]) + ', "contribution": '
                             + _numbers(contributions[rows, column]) + "}")
    texts = ["[" + ", ".join(i for i in row if i) + "]" for row in item.tolist()]
    flags = [[] for _ in range(n)]
    if context is not None:
        for mask, say in ((context.pinned, lambda r: PINNED),
                          (context.explored, lambda r: EXPLORED),
                          (context.moved,
                           lambda r: f"has free seats ({int(context.free_seats[r])} open)")):
            if mask is not None:
                for r in np.flatnonzero(np.asarray(mask, dtype=bool)).tolist():
                    flags[r].append(say(r))
    reasons = []
    for row, first in zip(phrase.tolist(), flags, strict=True):
        good, bad = [], []
        for slot, said in enumerate(row):
            if said is None or said in good or said in bad:
                continue
            (good if slot < HELPED else bad).append(said)
        good = first + good
        reasons.append("; ".join(good or ["overall fit"])
                       + (f"; despite: {', '.join(bad)}" if bad else ""))
    return texts, reasons
