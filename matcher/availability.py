"""Weekly availability: parse ``mon 18:00-21:00;sat 09:00-12:00`` and map it onto UTC slots.

A week is 672 slots of 15 minutes, slot 0 = Monday 00:00-00:15 UTC. Local blocks are shifted
by the zone's standard UTC offset; a block that runs past Sunday midnight wraps to Monday.
A block whose end is not after its start (``fri 22:00-02:00``) runs into the next day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from matcher.schema import SLOTS_PER_WEEK

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SLOT_MINUTES = 15
MINUTES_PER_WEEK = 7 * 24 * 60
_BLOCK = re.compile(r"^(?P<day>[a-z]{3})\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$")


@dataclass(frozen=True)
class Block:
    """A local weekly block: minutes from Monday 00:00 local time, end exclusive."""

    start: int
    end: int


def _minutes(clock: str, *, allow_24: bool) -> int:
    hours, minutes = (int(part) for part in clock.split(":"))
    if minutes >= 60 or hours > 24 or (hours == 24 and (minutes or not allow_24)):
        raise ValueError(f"'{clock}' is not a time of day")
    if minutes % SLOT_MINUTES:
        raise ValueError(f"'{clock}' is not on a quarter hour")
    return hours * 60 + minutes


def parse_availability(text: str | None) -> list[Block]:
    """Parse weekly blocks separated by ``;``; raises ``ValueError`` naming the bad block."""
    return list(_parsed(text or ""))


@lru_cache(maxsize=1 << 16)
def _parsed(text: str) -> tuple[Block, ...]:
    """Cached: an import validates each cell, then loads it, parsing the same texts twice."""
    blocks: list[Block] = []
    for raw in text.split(";"):
        part = raw.strip().lower()
        if not part:
            continue
        match = _BLOCK.match(part)
        if not match or match["day"] not in DAYS:
            raise ValueError(f"block '{raw.strip()}' is not like 'mon 18:00-21:00'")
        day = DAYS.index(match["day"]) * 24 * 60
        try:
            start = _minutes(match["start"], allow_24=False)
            end = _minutes(match["end"], allow_24=True)
        except ValueError as exc:
            raise ValueError(f"block '{raw.strip()}': {exc}") from None
        if end == start:
            raise ValueError(f"block '{raw.strip()}' is empty")
        if end < start:  # runs past midnight into the next day
            end += 24 * 60
        blocks.append(Block(day + start, day + end))
    return tuple(blocks)


def utc_slots(blocks: list[Block], utc_offset_minutes: int) -> str:
    """The blocks as a 672-character '0'/'1' string of UTC slots (PostgreSQL bit(672) text)."""
    return format(utc_bits(blocks, utc_offset_minutes), f"0{SLOTS_PER_WEEK}b")


def utc_bits(blocks: list[Block], utc_offset_minutes: int) -> int:
    """The blocks as a 672-bit integer of UTC slots, slot 0 the most significant bit.

    Block bounds and zone offsets are whole quarter hours, and a block is shorter than a
    week, so each block is one run of slots that wraps past Sunday midnight at most once.
    """
    bits = 0
    for block in blocks:
        first = ((block.start - utc_offset_minutes) // SLOT_MINUTES) % SLOTS_PER_WEEK
        length = (block.end - block.start) // SLOT_MINUTES
        run = (1 << length) - 1  # slots first .. first+length-1, modulo a week
        shift = SLOTS_PER_WEEK - first - length
        bits |= run << shift if shift >= 0 else run >> -shift | (run << (SLOTS_PER_WEEK + shift))
    return bits & ((1 << SLOTS_PER_WEEK) - 1)
