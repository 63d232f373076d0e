"""Admin overrides end to end on a real database: every kind is honoured by the nightly run,
imports are all or nothing with row-level errors, and removals keep the audit trail."""

from __future__ import annotations

import re

import pandas as pd
import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from matcher.cli import cli

from .helpers import invoke, seed


@pytest.fixture
def trained(db_url, engine, tmp_path, monkeypatch):
    monkeypatch.setenv("MATCHER_ADMIN", "ada")
    seed("--scale", "tiny", "--seed", "31")
    invoke("train", "--algorithms", "logistic", "--oracle-mentees", "20", "--no-market",
           "--report-dir", str(tmp_path / "train"))
    return engine


def _published(engine) -> pd.DataFrame:
    with engine.connect() as conn:
        return pd.read_sql(sa.text("SELECT * FROM current_recommendations"), conn)


def _batch_counts(engine) -> dict:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT counts FROM recommendation_batches b JOIN published_batch p "
            "ON p.batch_id = b.id")).scalar_one()


def _free_seats(engine, mentor: str) -> int | None:
    with engine.connect() as conn:
        return conn.execute(sa.text(
            "SELECT bm.free_seats FROM batch_mentors bm JOIN published_batch p USING "
            "(batch_id) JOIN mentors m ON m.id = bm.mentor_id WHERE m.external_id = :m"),
            {"m": mentor}).scalar_one_or_none()


def test_every_kind_of_override_is_honoured_by_the_nightly_run(trained):
    engine = trained
    invoke("score")
    before = _published(engine)
    # a popular mentor to pause, a pair that is listed to block, a mentor to squeeze
    counts = before["mentor_id"].value_counts()
    paused, squeezed = counts.index[0], counts.index[1]
    listed = before[~before["mentor_id"].isin([paused, squeezed])].iloc[0]
    mentee, blocked = listed["mentee_id"], listed["mentor_id"]
    other = before[before["mentee_id"] != mentee]["mentee_id"].iloc[0]
    last = before[(before["mentee_id"] == other)
                  & ~before["mentor_id"].isin([paused, squeezed])]
    pinned = before[~before["mentor_id"].isin(
        [paused, squeezed, *last["mentor_id"]])]["mentor_id"].iloc[0]
    invoke("overrides", "add", "pause", "--mentor", paused, "--until", "2099-01-01",
           "--reason", "holiday")
    invoke("overrides", "add", "block", "--mentor", blocked, "--mentee", mentee,
           "--reason", "conflict of interest")
    invoke("overrides", "add", "capacity", "--mentor", squeezed, "--capacity", "0",
           "--reason", "overloaded this cycle")
    invoke("overrides", "add", "pin", "--mentor", pinned, "--mentee", other,
           "--reason", "matched at the kickoff")
    invoke("overrides", "add", "pin", "--mentor", paused, "--mentee", mentee,
           "--reason", "asked for by name")
    invoke("score")
    after = _published(engine)
    assert paused not in set(after["mentor_id"]) and squeezed not in set(after["mentor_id"])
    assert after[(after["mentee_id"] == mentee) & (after["mentor_id"] == blocked)].empty
    top = after[(after["mentee_id"] == other) & (after["rank"] == 1)].iloc[0]
    assert top["mentor_id"] == pinned
    assert top["reasons"].startswith("matched by the programme (pinned)")
    lists = after.groupby("mentee_id").size()
    assert lists[other] == lists.max()  # the pin took a place, it did not lengthen the list
    assert _free_seats(engine, squeezed) is None  # no seat: not even eligible
    # the pin of a paused mentor is not applied, and the run log says why
    (line,) = _batch_counts(engine)["pins_not_applied"]
    assert f"mentee '{mentee}': pinned mentor '{paused}'" in line and "paused until 2099" in line


def test_removing_an_override_restores_the_mentor_and_keeps_the_audit_trail(trained):
    engine = trained
    invoke("score")
    with engine.connect() as conn:  # a mentor with two free seats or more and no mentee yet
        mentor = conn.execute(sa.text(
            "SELECT external_id FROM mentors m WHERE active AND capacity >= 2 AND NOT EXISTS "
            "(SELECT 1 FROM interactions i WHERE i.mentor_id = m.id AND i.status = 'active') "
            "ORDER BY id LIMIT 1")).scalar_one()
    seats = _free_seats(engine, mentor)
    out = invoke("overrides", "add", "capacity", "--mentor", mentor, "--capacity", "1",
                 "--reason", "fewer hours")
    override = int(re.search(r"override (\d+) added", out).group(1))
    invoke("score")
    assert seats >= 2 and _free_seats(engine, mentor) == 1
    invoke("overrides", "remove", str(override), "--reason", "back to normal", "--by", "bob")
    invoke("score")
    assert _free_seats(engine, mentor) == seats
    assert "no overrides in force" in invoke("overrides", "list")
    trail = invoke("overrides", "list", "--all")
    assert "added" in trail and "by ada: fewer hours" in trail
    assert "removed" in trail and "by bob: back to normal" in trail
    again = CliRunner().invoke(cli, ["overrides", "remove", str(override), "--reason", "x"])
    assert again.exit_code != 0 and f"no override {override} in force" in str(again.exception)


def test_an_override_file_with_bad_rows_adds_nothing_and_names_each_problem(trained, tmp_path):
    engine = trained
    with engine.connect() as conn:
        mentor, mentee = conn.execute(sa.text(
            "SELECT (SELECT external_id FROM mentors ORDER BY id LIMIT 1), "
            "(SELECT external_id FROM mentees ORDER BY id LIMIT 1)")).one()
    bad = tmp_path / "overrides.csv"
    bad.write_text("kind,mentor_id,mentee_id,until,capacity,reason\n"
                   f"block,{mentor},,,,conflict\n"                  # line 2: no mentee
                   f"pause,{mentor},,,,holiday\n"                   # line 3: no until
                   f"snooze,{mentor},,2099-01-01,,x\n"              # line 4: unknown kind
                   f"pin,M-nobody,{mentee},,,manual match\n"        # line 5: unknown mentor
                   f"pause,{mentor},,2001-01-01,,too late\n"        # line 6: in the past
                   f"capacity,{mentor},,,-1,fewer hours\n"          # line 7: below zero
                   f"capacity,{mentor},,next week,2,x\n")           # line 8: not a date
    result = CliRunner().invoke(cli, ["overrides", "import", str(bad)])
    message = str(result.exception)
    assert result.exit_code != 0 and "nothing was imported" in message
    for expected in ("overrides.csv:2: column 'mentee_id': a 'block' override needs mentee_id",
                     "overrides.csv:3: column 'until': a 'pause' override needs until",
                     "overrides.csv:4: column 'kind': 'snooze' is not one of",
                     "overrides.csv:5: column 'mentor_id': unknown mentor 'M-nobody'",
                     "overrides.csv:6: column 'until': 2001-01-01T00:00:00+00:00 has already",
                     "overrides.csv:7: column 'capacity': -1 is below the minimum 0",
                     "overrides.csv:8: column 'until': 'next week' is neither a date"):
        assert expected in message, message
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM overrides")).scalar_one() == 0
    good = tmp_path / "good.csv"
    good.write_text("kind,mentor_id,mentee_id,until,capacity,reason\n"
                    f"block,{mentor},{mentee},,,conflict\n"
                    f"pause,{mentor},,2099-01-01,,holiday\n")
    assert "2 override(s) added" in invoke("overrides", "import", str(good))
    clash = CliRunner().invoke(cli, ["overrides", "import", str(good)])
    assert "overrides.csv" not in str(clash.exception) and "good.csv:2:" in str(clash.exception)
    assert "already in force" in str(clash.exception)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM overrides")).scalar_one() == 2
