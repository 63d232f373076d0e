"""Weekly availability: parsing, validation, and conversion to UTC slots."""

import pytest

from matcher.availability import Block, parse_availability, utc_slots


def test_blocks_are_parsed_to_minutes_of_the_week():
    assert parse_availability("mon 18:00-21:00; sat 09:00-12:00") == [
        Block(18 * 60, 21 * 60),
        Block(5 * 1440 + 9 * 60, 5 * 1440 + 12 * 60),
    ]
    assert parse_availability("") == []
    assert parse_availability(None) == []


def test_block_ending_after_midnight_runs_into_next_day():
    assert parse_availability("fri 22:00-02:00") == [Block(4 * 1440 + 22 * 60, 5 * 1440 + 2 * 60)]


@pytest.mark.parametrize("bad", ["funday 10:00-11:00", "mon 25:00-26:00", "mon 10:00",
                                 "mon 10:10-11:00", "mon 10:00-10:00", "mon 24:00-01:00"])
def test_malformed_blocks_are_refused_with_the_block_named(bad):
    with pytest.raises(ValueError, match=bad.split()[0]):
        parse_availability(bad)


def _slots_on(bits: str) -> list[int]:
    return [i for i, b in enumerate(bits) if b == "1"]


def test_half_hour_offset_zone_shifts_by_five_and_a_half_hours():
    # Kolkata is UTC+05:30: Monday 09:00-10:00 local is Monday 03:30-04:30 UTC.
    bits = utc_slots(parse_availability("mon 09:00-10:00"), 330)
    assert _slots_on(bits) == [14, 15, 16, 17]


def test_block_crossing_the_week_boundary_after_conversion_wraps_to_sunday():
    # Monday 01:00-02:00 at UTC+02:00 is Sunday 23:00-24:00 UTC: the last four slots.
    bits = utc_slots(parse_availability("mon 01:00-02:00"), 120)
    assert _slots_on(bits) == [668, 669, 670, 671]
    # Sunday 23:00-01:00 at UTC-01:00 is Monday 00:00-02:00 UTC: the first eight.
    assert _slots_on(utc_slots(parse_availability("sun 23:00-01:00"), -60)) == list(range(0, 8))


def _slots_minute_by_minute(blocks, offset):
    """The definition: every local quarter hour of every block, shifted to UTC, wrapped."""
    slots = ["0"] * 672
    for block in blocks:
        for minute in range(block.start, block.end, 15):
            slots[((minute - offset) % (7 * 1440)) // 15] = "1"
    return "".join(slots)


@pytest.mark.parametrize("offset", [-720, -570, -300, 0, 330, 345, 630, 765, 840])
def test_utc_slots_match_the_minute_by_minute_definition(offset):
    text = "mon 00:00-01:00; sun 22:30-02:15; wed 12:00-12:15; sat 23:45-24:00; tue 08:00-20:00"
    blocks = parse_availability(text)
    assert utc_slots(blocks, offset) == _slots_minute_by_minute(blocks, offset)
