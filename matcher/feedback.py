"""The sanity checks that stop a broken client's feedback from silently wrecking the model.

Importing a programme's own feedback file is :func:`matcher.importer.import_feedback`;
simulated answers for synthetic worlds are :mod:`matcher.synthetic.simulated_feedback`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from matcher.db import sql

log = logging.getLogger(__name__)

#: Checks judge only periods with at least this many feedback rows.
MIN_ROWS = 50
#: Largest allowed change of the accepted share among answered rows vs before.
MAX_ACCEPTED_SHARE_CHANGE = 0.3
#: Largest allowed share of one action among the new rows.
MAX_ONE_ACTION_SHARE = 0.95
#: Allowed range of new rows per batch vs the median of earlier batches.
VOLUME_RATIO = (1 / 3, 3.0)
#: Largest allowed (share of feedback) / (share of recommendations) of one mentor.
MAX_MENTOR_FEEDBACK_RATIO = 5.0
MIN_MENTOR_ROWS = 20


@dataclass
class Check:
    name: str
    passed: bool
    detail: str

    def as_dict(self) -> dict:
        return {"name": self.name, "passed": bool(self.passed), "detail": self.detail}


def check(conn, since: datetime, champion_id: int | None = None) -> list[Check]:
    """Sanity checks on the feedback shown since ``since`` against what came before:
    the action mix (against earlier feedback on lists of ``champion_id``, the model that
    published them), the volume per batch, and no mentor flooded beyond their exposure."""
    return [_action_mix(conn, since, champion_id), _volume(conn, since),
            _concentration(conn, since)]


def _action_mix(conn, since, champion_id) -> Check:
    mix = {bool(r.recent): r for r in conn.execute(sql("feedback/action_mix.sql"),
                                                   {"since": since,
                                                    "model_version_id": champion_id})}
    new, old = mix.get(True), mix.get(False)
    if new is None or new.rows < MIN_ROWS:
        return Check("action mix", True, f"{new.rows if new else 0} new rows: too few to judge")
    shares = {a: getattr(new, a) / new.rows for a in ("accepted", "declined", "ignored")}
    top = max(shares, key=shares.get)
    if shares[top] > MAX_ONE_ACTION_SHARE:
        return Check("action mix", False, f"{shares[top]:.0%} of {new.rows} new rows are "
                                          f"'{top}' (a broken client?)")
    answered_new = new.accepted + new.declined
    if old is None or old.accepted + old.declined < MIN_ROWS or answered_new < MIN_ROWS:
        return Check("action mix", True, "no earlier feedback on this champion's lists to "
                                         "compare with")
    rate_new = new.accepted / answered_new
    rate_old = old.accepted / (old.accepted + old.declined)
    detail = (f"accepted share of answered rows {rate_new:.2f} new vs {rate_old:.2f} before "
              f"on this champion's lists (allowed change {MAX_ACCEPTED_SHARE_CHANGE})")
    return Check("action mix", abs(rate_new - rate_old) <= MAX_ACCEPTED_SHARE_CHANGE, detail)


def _volume(conn, since) -> Check:
    batches = pd.DataFrame(conn.execute(sql("feedback/rows_per_batch.sql"),
                                        {"since": since}).all(),
                           columns=["batch_id", "recent", "rows"])
    new, old = batches[batches["recent"]], batches[~batches["recent"]]
    if new.empty or old.empty:
        return Check("volume", True, "no earlier answered batch to compare with")
    ratio = new["rows"].mean() / old["rows"].median()
    low, high = VOLUME_RATIO
    return Check("volume", low <= ratio <= high,
                 f"{new['rows'].mean():.0f} rows per new batch vs median "
                 f"{old['rows'].median():.0f} before (ratio {ratio:.2f}, allowed "
                 f"{low:.2f}..{high:.1f})")


def _concentration(conn, since) -> Check:
    row = conn.execute(sql("feedback/mentor_concentration.sql"),
                       {"since": since, "min_rows": MIN_MENTOR_ROWS}).one_or_none()
    if row is None:
        return Check("one mentor flooded", True, "no mentor has enough new feedback to judge")
    if not row.recommendation_share:
        return Check("one mentor flooded", False,
                     f"mentor {row.mentor_id!r} has {row.rows} new feedback rows but no "
                     f"recommendation in those batches")
    ratio = row.feedback_share / row.recommendation_share
    return Check("one mentor flooded", ratio <= MAX_MENTOR_FEEDBACK_RATIO,
                 f"mentor {row.mentor_id!r}: {row.feedback_share:.1%} of new feedback vs "
                 f"{row.recommendation_share:.1%} of recommendations (ratio {ratio:.1f}, "
                 f"allowed {MAX_MENTOR_FEEDBACK_RATIO})")
