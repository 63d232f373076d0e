"""The synthetic world: deterministic, realistic, and consistent with its ground truth."""

import numpy as np
import pandas as pd
import sqlalchemy as sa

from matcher.synthetic.truth import TruthModel, oracle_top_k
from tests.helpers import count_rows, seed, table_contents


def test_same_seed_gives_identical_tables_and_another_seed_a_different_world(db_url):
    seed("--scale", "tiny", "--seed", "7")
    first = table_contents(db_url)
    seed("--scale", "tiny", "--seed", "7", "--replace")
    second = table_contents(db_url)
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name], obj=name)

    seed("--scale", "tiny", "--seed", "8", "--replace")
    third = table_contents(db_url)
    assert not first["interactions"].equals(third["interactions"])
    assert not first["mentors"].equals(third["mentors"])


def test_seeding_refuses_to_overwrite_existing_data_without_replace(db_url):
    from click.testing import CliRunner

    from matcher.cli import cli

    seed("--scale", "tiny")
    before = count_rows(db_url)
    result = CliRunner().invoke(cli, ["seed", "--scale", "tiny", "--seed", "9"])
    assert result.exit_code != 0
    assert "--replace" in str(result.exception)
    assert count_rows(db_url) == before


def test_world_has_the_promised_shape(db_url):
    output = seed("--mentors", "150", "--mentees", "1500")
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        statuses = dict(conn.execute(sa.text(
            "SELECT status, count(*) FROM interactions GROUP BY status")).all())
        actions = dict(conn.execute(sa.text(
            "SELECT action, count(*) FROM recommendation_feedback GROUP BY action")).all())
        accepted_by_rank = pd.read_sql(sa.text(
            "SELECT rank, avg((action = 'accepted')::int) AS rate "
            "FROM recommendation_feedback GROUP BY rank ORDER BY rank"), conn)
        inactive = conn.execute(sa.text(
            "SELECT avg((NOT active)::int) FROM mentees")).scalar_one()
    engine.dispose()
    assert set(statuses) == {"declined", "active", "completed", "abandoned"}
    success = statuses["completed"] / (statuses["completed"] + statuses["abandoned"])
    assert 0.15 < success < 0.45
    assert set(actions) == {"accepted", "declined", "ignored"}
    # position bias: top positions are accepted more often than bottom ones
    top = accepted_by_rank["rate"].head(3).mean()
    bottom = accepted_by_rank["rate"].tail(3).mean()
    assert top > bottom
    assert 0.05 < float(inactive) < 0.3
    assert "rows/s" in output and "success rate" in output


def test_outcomes_follow_the_true_probability_and_the_oracle_ranks_by_it(db_url):
    seed("--mentors", "200", "--mentees", "3000", "--seed", "3")
    engine = sa.create_engine(db_url)
    truth = TruthModel.from_database(engine)
    with engine.connect() as conn:
        ended = pd.read_sql(sa.text(
            "SELECT mentee_id, mentor_id, status = 'completed' AS success FROM interactions "
            "WHERE status IN ('completed', 'abandoned')"), conn)
        mentors = pd.read_sql(sa.text("SELECT id FROM mentors ORDER BY id"), conn)["id"]
    engine.dispose()
    ended["p"] = truth.pair_probability(ended["mentee_id"], ended["mentor_id"])
    ended["band"] = pd.qcut(ended["p"], 3, labels=False)
    by_band = ended.groupby("band")["success"].mean()
    assert by_band.is_monotonic_increasing, by_band
    assert by_band.iloc[-1] - by_band.iloc[0] > 0.1
    # the mean predicted probability matches the observed success rate
    assert abs(ended["p"].mean() - ended["success"].mean()) < 0.05

    mentee = int(ended["mentee_id"].iloc[0])
    top_ids, top_p = oracle_top_k(truth, mentee, mentors.to_numpy(), k=10)
    assert len(top_ids) == 10
    assert np.all(np.diff(top_p) <= 0)
    every = truth.pair_probability(np.full(len(mentors), mentee), mentors.to_numpy())
    assert top_p[0] == every.max()
    assert np.isclose(top_p[-1], np.sort(every)[-10])
