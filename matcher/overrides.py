"""Admin overrides: what the programme decides by hand, with who, when and why.

* **block** a pair (a conflict of interest, a past complaint): the mentor is never a
  candidate for that mentee;
* **pause** a mentor until a date (holiday, overload): never recommended until then;
* **pin** a mentor for a mentee (a manual match): rank 1 of the mentee's list whenever the
  mentor is eligible; when not, the run log says why (:func:`obstacles`);
* **capacity**: lower a mentor's capacity (for this cycle, with ``until``, or until removed);
  free seats and eligibility use the lower number.

An override is in force from when it was added until ``until`` (if given) or until it is
removed; removing one keeps its row with who removed it, when and why
(``matcher overrides list --all`` is the audit trail). The nightly run reads the overrides
in force in its snapshot: blocks, pauses and capacities in the candidate and seat queries
(``sql/candidates/``, ``sql/scoring/free_capacity.sql``), pins here (:func:`apply_pins`).
"""

from __future__ import annotations

import getpass
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import Connection
from sqlalchemy.engine import Engine

from matcher import loader
from matcher.db import sql
from matcher.errors import InputError
from matcher.formats import OVERRIDES
from matcher.importer import Problems, read_file

log = logging.getLogger(__name__)

#: What each kind needs beyond mentor and reason.
NEEDS = {"block": ("mentee_id",), "pin": ("mentee_id",), "pause": ("until",),
         "capacity": ("capacity",)}


def who() -> str:
    """Who is making a change: ``MATCHER_ADMIN``, else the operating-system user."""
    return os.environ.get("MATCHER_ADMIN") or getpass.getuser()


@dataclass
class Override:
    kind: str
    mentor_id: str
    mentee_id: str | None = None
    until: datetime | None = None
    capacity: int | None = None
    reason: str = ""

    def problems(self, now: datetime) -> list[tuple[str, str]]:
        """(column, reason) for each rule this override breaks."""
        out = []
        for column in NEEDS[self.kind]:
            if getattr(self, column) is None:
                out.append((column, f"a '{self.kind}' override needs {column}"))
        if self.kind not in ("block", "pin") and self.mentee_id is not None:
            out.append(("mentee_id", f"a '{self.kind}' override is about a mentor alone; "
                                     "leave mentee_id empty"))
        if self.kind != "capacity" and self.capacity is not None:
            out.append(("capacity", "only a 'capacity' override has a capacity"))
        if self.until is not None and self.until <= now:
            out.append(("until", f"{self.until.isoformat()} has already passed"))
        if not (self.reason or "").strip():
            out.append(("reason", "say why (it is kept in the audit trail)"))
        return out


def add(engine: Engine, override: Override, by: str) -> int:
    """Add one override; :class:`InputError` naming the problem if it breaks a rule, names
    an unknown person, or one of its kind is already in force."""
    problems = override.problems(datetime.now(UTC))
    if problems:
        raise InputError("; ".join(f"{column}: {reason}" for column, reason in problems))
    with engine.begin() as conn:
        return _insert(conn, override, by)


def _insert(conn: Connection, override: Override, by: str) -> int:
    parameters = {"kind": override.kind, "mentor_id": override.mentor_id,
                  "mentee_id": override.mentee_id, "until": override.until,
                  "capacity": override.capacity, "reason": override.reason.strip(),
                  "created_by": by}
    clash = conn.execute(sql("overrides/in_force_conflict.sql"), parameters).one_or_none()
    if clash is not None:
        subject = "pair" if override.mentee_id else "mentor"
        what = (f"mentee {override.mentee_id!r} already has a pinned mentor"
                if clash.kind == "pin" and override.kind == "pin" else
                f"a '{override.kind}' override for this {subject} is already in force")
        raise InputError(f"{what} (override {clash.id}); remove it first: "
                         f"matcher overrides remove {clash.id} --reason ...")
    new = conn.execute(sql("overrides/insert.sql"), parameters).scalar_one_or_none()
    if new is None:
        unknown = (f"mentee {override.mentee_id!r}" if override.mentee_id else "")
        raise InputError(f"unknown mentor {override.mentor_id!r}"
                         + (f" or {unknown}" if unknown else ""))
    log.info("override %d added by %s: %s of mentor %s", new, by, override.kind,
             override.mentor_id)
    return int(new)


def remove(engine: Engine, override_id: int, reason: str, by: str) -> None:
    """Stop an override; its row stays, with who removed it, when and why."""
    if not reason.strip():
        raise InputError("say why the override is removed (it is kept in the audit trail)")
    with engine.begin() as conn:
        if conn.execute(sql("overrides/remove.sql"), {"id": override_id, "reason": reason,
                                                       "removed_by": by}).first() is None:
            raise InputError(f"no override {override_id} in force (matcher overrides list "
                             "--all shows every one)")
    log.info("override %d removed by %s", override_id, by)


def listing(engine: Engine, everything: bool = False) -> list[dict]:
    """The overrides in force now, or every one (``everything``), newest first."""
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(sql("overrides/listing.sql"),
                                              {"everything": everything}).mappings()]


def import_file(engine: Engine, path: Path, by: str) -> int:
    """``matcher overrides import``: every row of ``path`` (kind, mentor_id, mentee_id,
    until, capacity, reason) checked first, each problem named as ``file:line: column 'x':
    reason``; then all rows are added in one transaction, or none. Returns how many."""
    problems = Problems()
    path = Path(path)
    frame = read_file(path, OVERRIDES, set(), problems)
    now = datetime.now(UTC)
    rows: list[tuple[int, Override]] = []
    for line, row in frame.iterrows():
        row = {k: None if v is None or (isinstance(v, float) and np.isnan(v)) else v
               for k, v in row.items()}
        if row["kind"] is None:
            continue  # already reported
        override = Override(row["kind"], row["mentor_id"], row["mentee_id"], row["until"],
                            None if row["capacity"] is None else int(row["capacity"]),
                            row["reason"] or "")
        for column, reason in override.problems(now):
            problems.add(path, line, column, reason)
        rows.append((line, override))
    with engine.begin() as conn:
        mentee_names, mentor_names = loader.external_ids(conn)
        mentors, mentees = set(mentor_names.values()), set(mentee_names.values())
        for line, o in rows:
            if o.mentor_id is not None and o.mentor_id not in mentors:
                problems.add(path, line, "mentor_id", f"unknown mentor {o.mentor_id!r}")
            if o.mentee_id is not None and o.mentee_id not in mentees:
                problems.add(path, line, "mentee_id", f"unknown mentee {o.mentee_id!r}")
        problems.raise_if_any()
        for line, o in rows:
            try:
                with conn.begin_nested():
                    _insert(conn, o, by)
            except InputError as exc:
                problems.add(path, line, "kind", str(exc))
        problems.raise_if_any()
    return len(rows)


def pins(conn: Connection, as_of: datetime) -> dict[int, int]:
    """Mentee -> the mentor pinned for them by an override in force at ``as_of``."""
    return dict(conn.execute(sql("overrides/pins.sql"), {"as_of": as_of}).all())


def apply_pins(chosen: pd.DataFrame, pool: pd.DataFrame, pinned: dict[int, int], k: int
               ) -> tuple[pd.DataFrame, list[tuple[int, int]]]:
    """``chosen`` with each pinned mentor at rank 1 of its mentee's list: moved up if it is
    on the list, else taken from ``pool`` (the mentee's scored candidates, where an
    eligible pinned mentor always is) in place of the last item of a full list of ``k``. It
    keeps the list's top ranking score (lists stay ordered), propensity 1 and ``pinned``
    True. Returns the rows
    and the (mentee, mentor) pins that could not be applied (the mentor is not an eligible
    candidate)."""
    chosen = chosen.assign(pinned=False)
    if not pinned:
        return chosen, []
    affected = chosen["mentee_id"].isin(pinned)
    rest, lists = chosen[~affected], chosen[affected]
    candidates = pool[pool["mentee_id"].isin(pinned)].set_index(["mentee_id", "mentor_id"])
    out, missing = [], []
    for mentee, mentor in sorted(pinned.items()):
        own = lists[lists["mentee_id"] == mentee].sort_values("rank")
        if mentor in set(own["mentor_id"]):
            row = own[own["mentor_id"] == mentor]
            own = own[own["mentor_id"] != mentor]
        elif (mentee, mentor) in candidates.index:
            row = candidates.loc[[(mentee, mentor)]].reset_index().assign(
                p_success=lambda f: f["score"], moved=False)
            own = own.iloc[:-1] if len(own) >= k else own
        else:
            missing.append((mentee, mentor))
            out.append(own)
            continue
        top = own["score"].max() if len(own) else row["score"].iloc[0]
        row = row.assign(score=max(top, float(row["score"].iloc[0])), propensity=1.0,
                         explored=False, pinned=True)
        merged = pd.concat([row, own], ignore_index=True)
        merged["rank"] = np.arange(1, len(merged) + 1)
        out.append(merged[[c for c in chosen.columns if c in merged.columns]])
    return pd.concat([rest, *out], ignore_index=True), missing


def obstacles(conn: Connection, missing: list[tuple[int, int]]) -> list[str]:
    """For each (mentee, mentor) pin that could not be applied, why, with the programme's
    ids: "mentee 'E-1': pinned mentor 'M-9' not recommended: the mentor is paused until
    2026-12-24 00:00 UTC"."""
    if not missing:
        return []
    mentee_names, mentor_names = loader.external_ids(conn)
    rows = conn.execute(sql("overrides/pin_obstacles.sql"), {
        "mentee_ids": [int(e) for e, _ in missing],
        "mentor_ids": [int(m) for _, m in missing]}).all()
    return [f"mentee {mentee_names.get(r.mentee_id)!r}: pinned mentor "
            f"{mentor_names.get(r.mentor_id)!r} not recommended: "
            f"{r.obstacles or 'the mentor is not among the candidates'}" for r in rows]
