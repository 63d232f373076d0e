"""Each batch in a partition of its own: attached when published, dropped when pruned, never
left behind by a failed or killed run; readers are not blocked while an old batch goes."""

from __future__ import annotations

import logging
import threading

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from matcher import batch_tables, market
from matcher.cli import cli
from matcher.db import sql, sql_text

from .helpers import Readers, assert_denied, invoke, seed


def _state(engine) -> tuple[dict[int, bool], list[int], int | None]:
    """({batch: attached} of every batch table, published batches, the current batch)."""
    with engine.connect() as conn:
        tables = {t.batch_id: t.attached for t in batch_tables.tables(conn)}
        published = list(conn.execute(sa.text(
            "SELECT id FROM recommendation_batches WHERE status = 'published' ORDER BY id"
        )).scalars())
        current = conn.execute(sa.text("SELECT batch_id FROM published_batch")).scalar()
    return tables, published, current


def test_every_published_batch_is_an_attached_partition_and_pruning_drops_the_old(
        trained, monkeypatch):
    monkeypatch.setenv("MATCHER_KEEP_BATCHES", "2")
    for _ in range(3):
        invoke("score")
    tables, published, current = _state(trained)
    assert published == [2, 3] and current == 3
    assert tables == {2: True, 3: True}  # batch 1's partition is gone with its log row
    with trained.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT batch_id, count(*) FROM recommendations GROUP BY batch_id ORDER BY 1"
        )).all()
    assert [b for b, _ in rows] == [2, 3] and all(n > 0 for _, n in rows)


def _partitions_read(conn, statement) -> set[str]:
    """The batch tables a statement's plan really scanned (EXPLAIN ANALYZE: a partition
    pruned at run time shows as never executed)."""
    plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {statement}").scalar()
    read, nodes = set(), [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        nodes += node.get("Plans", [])
        if node.get("Relation Name", "").startswith("recommendations_batch_") and node[
                "Actual Loops"]:
            read.add(node["Relation Name"])
    return read


def test_what_reads_the_published_batch_reads_its_partition_alone(trained):
    for _ in range(3):
        invoke("score")
    _, published, current = _state(trained)
    assert len(published) == 3
    with trained.connect() as conn:
        listed, rows = conn.execute(sa.text(
            "SELECT count(DISTINCT mentee_id), count(*) FROM recommendations "
            "WHERE batch_id = :b"), {"b": current}).one()
        for query in ("synthetic/published_lists.sql", "synthetic/published_batch.sql"):
            assert _partitions_read(conn, sql_text(query)) == {
                batch_tables.table_name(current)}, query
            assert len(conn.execute(sql(query)).all()) == rows
        # the shrink guard's count of listed mentees
        assert _partitions_read(conn, sql_text("scoring/published_mentees.sql")) == {
            batch_tables.table_name(current)}
        assert tuple(conn.execute(sql("scoring/published_mentees.sql")).one()) == (
            listed, current)


def test_a_failed_run_leaves_no_table_and_the_old_batch_stays(trained, monkeypatch):
    invoke("score")
    before, _, current = _state(trained)

    def refuse(conn, batch_id):
        raise RuntimeError("injected: the publishing transaction failed")

    monkeypatch.setattr(batch_tables, "attach", refuse)
    result = CliRunner().invoke(cli, ["score"])
    assert result.exit_code != 0 and "injected" in str(result.exception or result.output)
    tables, published, now_current = _state(trained)
    assert tables == before == {current: True} and now_current == current
    with trained.connect() as conn:
        status = conn.execute(sa.text(
            "SELECT status FROM recommendation_batches ORDER BY id DESC LIMIT 1")).scalar()
    assert status == "failed"


def test_a_market_step_failing_on_any_of_its_threads_publishes_nothing_and_the_next_run_does(
        trained, monkeypatch):
    invoke("score")  # the market objective (the default)
    before, _, current = _state(trained)
    solve = market._best_response

    def damped_fails(*args, damping, **kwargs):  # the damped search runs on its own thread
        if damping:
            raise RuntimeError("injected: the damped best response failed")
        return solve(*args, damping=damping, **kwargs)

    monkeypatch.setattr(market, "_best_response", damped_fails)
    result = CliRunner().invoke(cli, ["score"])
    assert result.exit_code != 0 and "injected" in str(result.exception or result.output)
    tables, _, now_current = _state(trained)
    assert tables == before == {current: True} and now_current == current
    monkeypatch.setattr(market, "_best_response", solve)
    # a block of a round fails on one of the threads the blocks run on
    value, calls = market.marginal_value, []

    def fails_once_in_a_while(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise RuntimeError("injected: a block's marginal values failed")
        return value(*args, **kwargs)

    monkeypatch.setattr(market, "marginal_value", fails_once_in_a_while)
    result = CliRunner().invoke(cli, ["score"])
    assert result.exit_code != 0 and "a block's marginal values" in str(
        result.exception or result.output)
    tables, _, now_current = _state(trained)
    assert tables == before == {current: True} and now_current == current
    monkeypatch.setattr(market, "marginal_value", value)
    invoke("score")
    _, _, after = _state(trained)
    assert after is not None and after > current


def test_a_table_left_by_a_dead_run_is_dropped_by_the_next_run(trained):
    invoke("score")
    with trained.begin() as conn:  # what a run killed while writing leaves behind
        conn.execute(sa.text("INSERT INTO recommendation_batches (id, status) "
                             "OVERRIDING SYSTEM VALUE VALUES (99, 'building')"))
        batch_tables.create(conn, 99)
    assert _state(trained)[0][99] is False
    invoke("score")
    tables, published, current = _state(trained)
    assert 99 not in tables and set(tables) == set(published) and current in tables


def test_pruning_waits_for_a_reader_of_the_old_batch_without_blocking_other_readers(
        trained, monkeypatch):
    monkeypatch.setenv("MATCHER_KEEP_BATCHES", "1")
    invoke("score")
    old = _state(trained)[2]
    reader = trained.connect()
    reader.execute(sa.text("SELECT count(*) FROM current_recommendations")).scalar()
    # ... and its transaction stays open, holding the old batch's partition
    run = threading.Thread(target=invoke, args=("score",))
    run.start()
    try:
        with trained.connect() as conn:
            for _ in range(1200):
                waiting = conn.execute(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE query LIKE "
                    "'%DETACH PARTITION%CONCURRENTLY%' AND wait_event_type = 'Lock'")).scalar()
                conn.commit()
                if waiting:
                    break
                threading.Event().wait(0.05)
            assert waiting, "the prune never waited for the reader"
            # another reader meanwhile: served at once, the new batch only
            conn.execute(sa.text("SET LOCAL statement_timeout = '5s'"))
            seen = conn.execute(sa.text(
                "SELECT count(*), min(batch_id), max(batch_id) FROM current_recommendations"
            )).one()
            conn.rollback()
    finally:
        reader.rollback()
        reader.close()
        run.join()
    assert seen[0] > 0 and seen[1] == seen[2] == old + 1
    tables, published, current = _state(trained)
    assert tables == {old + 1: True} and published == [old + 1]


def test_a_reader_holding_the_old_batch_too_long_defers_its_pruning_to_the_next_run(
        trained, monkeypatch, caplog):
    monkeypatch.setenv("MATCHER_KEEP_BATCHES", "1")
    monkeypatch.setattr(batch_tables, "RETIRE_LOCK_TIMEOUT", "1s")
    invoke("score")
    old = _state(trained)[2]
    with trained.connect() as reader:
        reader.execute(sa.text("SELECT count(*) FROM current_recommendations")).scalar()
        invoke("score")  # publishes; the old batch waits for the reader, then stays
        tables, published, current = _state(trained)
        assert current == old + 1 and old in tables and old in published
        assert f"batch {old} not pruned now" in caplog.text
        reader.rollback()
    invoke("score")
    tables, published, current = _state(trained)
    assert tables == {current: True} and published == [current] == [old + 2]


def _a_pair_and_building_batches(conn, *batch_ids: int) -> tuple[int, int]:
    """A published (mentee, mentor) pair, and 'building' batches ``batch_ids`` recorded."""
    for batch_id in batch_ids:
        conn.execute(sa.text("INSERT INTO recommendation_batches (id, status) "
                             "OVERRIDING SYSTEM VALUE VALUES (:id, 'building')"), {"id": batch_id})
    return tuple(conn.execute(sa.text(
        "SELECT mentee_id, mentor_id FROM recommendations LIMIT 1")).one())


def test_a_writer_cannot_slip_rows_into_a_batch_that_has_no_table(trained):
    invoke("score")
    with trained.connect() as conn:
        mentee, mentor = _a_pair_and_building_batches(conn, 77)
        with pytest.raises(sa.exc.IntegrityError, match="no partition"):
            conn.execute(sa.text(
                "INSERT INTO recommendations (batch_id, mentee_id, rank, mentor_id, score) "
                "VALUES (77, :e, 1, :m, 0.5)"), {"e": mentee, "m": mentor})


def test_a_batch_table_takes_only_its_batch_and_attaches_without_a_scan_of_its_bound(
        trained, caplog):
    invoke("score")
    with trained.connect() as conn:
        mentee, mentor = _a_pair_and_building_batches(conn, 77, 78)
        table = batch_tables.create(conn, 77)
        insert = (f"INSERT INTO {table} (batch_id, mentee_id, rank, mentor_id, score) "
                  "VALUES (:b, :e, 1, :m, 0.5)")
        with pytest.raises(sa.exc.IntegrityError, match="check"), conn.begin_nested():
            conn.execute(sa.text(insert), {"b": 78, "e": mentee, "m": mentor})
        conn.execute(sa.text(insert), {"b": 77, "e": mentee, "m": mentor})
        conn.exec_driver_sql("SET client_min_messages = debug1")
        with caplog.at_level(logging.INFO, "sqlalchemy.dialects.postgresql"):
            batch_tables.attach(conn, 77)  # (SQLAlchemy logs the server's notices)
        conn.exec_driver_sql("RESET client_min_messages")
        assert f'partition constraint for table "{table}" is implied by existing constraints' \
            in caplog.text
        assert conn.execute(sa.text(
            "SELECT count(*) FROM recommendations WHERE batch_id = 77")).scalar() == 1
        conn.rollback()


def test_the_reader_role_cannot_read_a_batch_table_directly(trained, reader_role):
    invoke("score")
    current = _state(trained)[2]
    with trained.connect() as conn:
        conn.execute(sa.text(f'SET ROLE "{reader_role}"'))
        assert conn.execute(sa.text("SELECT count(*) FROM current_recommendations")).scalar()
        conn.rollback()
        assert_denied(conn, reader_role,
                      [f"SELECT count(*) FROM {batch_tables.table_name(current)}"])


def test_reseeding_drops_every_batch_table(trained):
    invoke("score")
    invoke("score")
    seed("--scale", "tiny", "--seed", "12", "--replace")
    assert _state(trained) == ({}, [], None)
    invoke("train", "--algorithms", "xgboost", "--oracle-mentees", "20")
    invoke("score")  # batch ids start again at 1: its table is new
    tables, published, current = _state(trained)
    assert tables == {1: True} and published == [1] and current == 1


def test_readers_never_see_an_empty_list_while_batches_are_attached_and_published(engine):
    """Publishing attaches a partition while readers plan their queries: a query planned
    just before the commit and run just after must still see one whole batch (the view
    reads the newest attached batch, not the pointer; through the pointer ~20 % of such
    reads came back empty)."""
    with engine.begin() as conn:
        conn.execute(sa.text(
            "INSERT INTO mentors (external_id, timezone, availability_utc, capacity) "
            "SELECT 'm' || g, 'UTC', repeat('0', 672)::bit(672), 2 "
            "FROM generate_series(1, 10) g;"
            "INSERT INTO mentees (external_id, timezone, availability_utc) "
            "SELECT 'e' || g, 'UTC', repeat('0', 672)::bit(672) FROM generate_series(1, 50) g"))

    def publish() -> None:
        with engine.begin() as conn:
            batch = conn.execute(sa.text(
                "INSERT INTO recommendation_batches (status) VALUES ('building') RETURNING id"
            )).scalar()
            table = batch_tables.create(conn, batch)
            conn.execute(sa.text(
                f'INSERT INTO "{table}" (batch_id, mentee_id, rank, mentor_id, score) '
                "SELECT :batch, e.id, m.id, m.id, 0.5 FROM mentees e, mentors m"),
                {"batch": batch})
        with engine.begin() as conn:  # as matcher.scoring publishes
            batch_tables.attach(conn, batch)
            conn.execute(sql("scoring/publish.sql"), {"batch_id": batch, "counts": "{}",
                                                      "timings": "{}"})

    publish()
    published = 1
    with Readers(engine.url) as readers, Readers(engine.url) as more:
        # at least 60 publishes and 100 reads, however fast this server is
        while published < 60 or len(readers.seen) + len(more.seen) < 100:
            assert published < 2000, "the readers hardly read"
            publish()
            published += 1
    assert set(readers.seen + more.seen) == {(500, 1)}
