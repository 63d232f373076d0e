"""The CSV interchange format: the files `matcher import` reads and `matcher export` writes.

One definition of each file's columns, used by the importer (validation), the exporter, the
loader (COPY column order) and the seeder (which builds frames in this format).
"""

from __future__ import annotations

from dataclasses import dataclass

from matcher.schema import (
    EXPERIENCE_LEVELS,
    FEEDBACK_ACTIONS,
    INTERACTION_STATUSES,
    MENTOR_RESPONSES,
    OVERRIDE_KINDS,
)

LIST_SEPARATOR = ";"


@dataclass(frozen=True)
class Column:
    """One CSV column.

    kind: ``text``, ``list`` (``;``-separated), ``int``, ``bool``, ``timestamp`` (ISO 8601
    with offset, not in the future), ``deadline`` (a date, meaning 00:00 UTC, or an ISO 8601
    timestamp with offset; may lie in the future), ``timezone`` (IANA name),
    ``availability`` (weekly blocks) or ``choice``.
    """

    name: str
    kind: str = "text"
    required: bool = False
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None


@dataclass(frozen=True)
class FileFormat:
    name: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


MENTORS = FileFormat("mentors", ("mentor_id",), (
    Column("mentor_id", required=True),
    Column("domains", "list"),
    Column("skills", "list"),
    Column("industry"),
    Column("timezone", "timezone", required=True),
    Column("languages", "list"),
    Column("style"),
    Column("experience_years", "int", minimum=0, maximum=80),
    Column("capacity", "int", required=True, minimum=0, maximum=1000),
    Column("availability", "availability"),
    Column("bio"),
    Column("active", "bool"),
))

MENTEES = FileFormat("mentees", ("mentee_id",), (
    Column("mentee_id", required=True),
    Column("domains", "list"),
    Column("skills", "list"),
    Column("industry"),
    Column("timezone", "timezone", required=True),
    Column("languages", "list"),
    Column("preferred_style"),
    Column("experience_level", "choice", choices=EXPERIENCE_LEVELS),
    Column("availability", "availability"),
    Column("goals"),
    Column("active", "bool"),
))

INTERACTIONS = FileFormat("interactions", ("mentee_id", "mentor_id", "requested_at"), (
    Column("mentee_id", required=True),
    Column("mentor_id", required=True),
    Column("requested_at", "timestamp", required=True),
    Column("status", "choice", required=True, choices=INTERACTION_STATUSES),
    Column("ended_at", "timestamp"),
    Column("rating", "int", minimum=1, maximum=5),
))

FEEDBACK = FileFormat("feedback", ("mentee_id", "mentor_id", "shown_at"), (
    Column("mentee_id", required=True),
    Column("mentor_id", required=True),
    Column("rank", "int", required=True, minimum=1, maximum=1000),
    Column("shown_at", "timestamp", required=True),
    Column("action", "choice", required=True, choices=FEEDBACK_ACTIONS),
    Column("acted_at", "timestamp"),
    Column("mentor_response", "choice", choices=MENTOR_RESPONSES),
))

FORMATS = {f.name: f for f in (MENTORS, MENTEES, INTERACTIONS, FEEDBACK)}

#: ``matcher overrides import``: one admin override per row (not part of the export).
OVERRIDES = FileFormat("overrides", ("kind", "mentor_id", "mentee_id"), (
    Column("kind", "choice", required=True, choices=OVERRIDE_KINDS),
    Column("mentor_id", required=True),
    Column("mentee_id"),
    Column("until", "deadline"),
    Column("capacity", "int", minimum=0, maximum=1000),
    Column("reason", required=True),
))
