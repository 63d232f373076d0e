"""The row-by-row version of :func:`matcher.reasons.explain`, obviously right and slow: the
fast, column-at-a-time one is checked against it (tests/test_reasons.py)."""

from __future__ import annotations

import json

import numpy as np

from matcher.reasons import (
    _CONTEXT,
    _NEEDS,
    EXPLORED,
    MENTEE_SIDE,
    PHRASES,
    PINNED,
    Context,
    _chosen_columns,
)


class _Phrases:
    """Phrase of (feature, value, what else it reads), computed once each."""

    def __init__(self, features: list[str]) -> None:
        self.features = features
        self.index = {f: i for i, f in enumerate(features)}
        self.cache: dict[tuple, str] = {}

    def __call__(self, column: int, values: list[float], context: dict) -> str:
        feature = self.features[column]
        value = values[column]
        needs = tuple(values[self.index[f]] if f in self.index else 0.0
                      for f in _NEEDS.get(feature, ()))
        extra = context.get(_CONTEXT.get(feature, ""), 0)
        key = (column, None if value != value else value,
               tuple(None if v != v else v for v in needs), extra)
        found = self.cache.get(key)
        if found is None:
            phrase, missing = PHRASES.get(feature, (None, f"{feature} unknown"))
            if value != value:
                found = missing
            elif phrase is None:
                found = f"{feature} {value:g}"
            else:
                row = {f: values[self.index[f]] for f in _NEEDS.get(feature, ())
                       if f in self.index}
                found = phrase(value, row, {_CONTEXT.get(feature, ""): extra})
            self.cache[key] = found
        return found



def explain_row_by_row(contributions: np.ndarray, X: np.ndarray, features: list[str],
            context: Context | None = None) -> tuple[list[str], list[str]]:
    """Per row: the JSON explanation and the readable reasons.

    JSON: ``[{"feature": "skill_coverage", "value": 0.75, "contribution": 0.8123,
    "reason": "has 3 of the 4 skills asked for"}, ...]``, helped first, then held back
    (negative contribution); the text is what ``json.dumps`` gives. Reasons: the distinct
    phrases of what helped, then ``despite: ...`` what held the pick back. Features about the
    mentee alone (:data:`MENTEE_SIDE`) are never reasons.
    """
    contributions = np.asarray(contributions, dtype=float)
    values = np.asarray(X, dtype=float)
    about_mentor = np.array([f not in MENTEE_SIDE for f in features])
    helped, against = _chosen_columns(np.where(about_mentor, contributions, 0.0))
    phrases = _Phrases(list(features))
    names = [json.dumps(f) for f in features]
    rows = values.tolist()
    weights = contributions.tolist()
    n = len(rows)
    skills = context.skills_wanted.tolist() if context else [0] * n
    domains = context.domains_wanted.tolist() if context else [0] * n
    seats = context.free_seats.tolist() if context else [0] * n
    moved = context.moved.tolist() if context else [False] * n
    explored = (context.explored.tolist() if context is not None
                and context.explored is not None else [False] * n)
    pinned = (context.pinned.tolist() if context is not None
              and context.pinned is not None else [False] * n)
    texts, reasons = [], []
    for r, (up, down) in enumerate(zip(helped.tolist(), against.tolist(), strict=True)):
        row, weight = rows[r], weights[r]
        ctx = {"skills_wanted": skills[r], "domains_wanted": domains[r]}
        items, good, bad = [], [], []
        for columns, said in ((up, good), (down, bad)):
            for c in columns:
                if c < 0:
                    continue
                phrase = phrases(c, row, ctx)
                if phrase not in good and phrase not in bad:
                    said.append(phrase)
                value = row[c]
                shown = "null" if value != value else repr(round(value, 4))
                items.append(f'{{"feature": {names[c]}, "value": {shown}, "contribution": '
                             f'{round(weight[c], 4)!r}}}')
        if moved[r]:
            good.insert(0, f"has free seats ({int(seats[r])} open)")
        if explored[r]:
            good.insert(0, EXPLORED)
        if pinned[r]:
            good.insert(0, PINNED)
        texts.append("[" + ", ".join(items) + "]")
        reasons.append("; ".join(good or ["overall fit"])
                       + (f"; despite: {', '.join(bad)}" if bad else ""))
    return texts, reasons
