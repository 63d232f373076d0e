"""Settings: URLs normalised to psycopg2 in one place, bad values refused with a clear reason."""

import pytest

from matcher.errors import ConfigError
from matcher.settings import get_settings, normalise_database_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@h:5432/d", "postgresql+psycopg2://u@h:5432/d"),
        ("postgres://u:p@h/d", "postgresql+psycopg2://u:p@h/d"),
        ("postgresql+psycopg://u@h/d", "postgresql+psycopg2://u@h/d"),
        ("postgresql+psycopg2://u@/d?host=/tmp/x", "postgresql+psycopg2://u@/d?host=%2Ftmp%2Fx"),
    ],
)
def test_database_urls_are_normalised_to_psycopg2(given, expected):
    assert normalise_database_url(given) == expected


@pytest.mark.parametrize("bad", ["not a url", "mysql://u@h/d", "sqlite:///x.db"])
def test_non_postgresql_urls_are_refused(bad):
    with pytest.raises(ConfigError, match="MATCHER_DATABASE_URL"):
        normalise_database_url(bad)


def test_settings_read_from_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("MATCHER_DATABASE_URL", "postgresql://a@b/c")
    monkeypatch.setenv("MATCHER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("MATCHER_KEEP_BATCHES", "3")
    monkeypatch.setenv("MATCHER_RETRAIN_METRIC", "oracle_efficiency")
    monkeypatch.setenv("MATCHER_RETRAIN_MARGIN", "0.01")
    settings = get_settings()
    assert settings.database_url == "postgresql+psycopg2://a@b/c"
    assert settings.data_dir == tmp_path
    assert settings.keep_batches == 3
    assert settings.retrain_metric == "oracle_efficiency" and settings.retrain_margin == 0.01


def test_malformed_numeric_setting_names_the_variable(monkeypatch):
    monkeypatch.setenv("MATCHER_KEEP_BATCHES", "many")
    with pytest.raises(ConfigError, match="MATCHER_KEEP_BATCHES"):
        get_settings()


def test_negative_retrain_margin_is_refused(monkeypatch):
    monkeypatch.setenv("MATCHER_RETRAIN_MARGIN", "-0.1")
    with pytest.raises(ConfigError, match="MATCHER_RETRAIN_MARGIN must be at least 0"):
        get_settings()


def test_db_stop_stops_the_embedded_server_and_the_next_command_starts_it(monkeypatch,
                                                                          tmp_path):
    import psycopg2

    from matcher.db import database_url
    from tests.helpers import invoke

    monkeypatch.delenv("MATCHER_DATABASE_URL", raising=False)
    monkeypatch.setenv("MATCHER_DATA_DIR", str(tmp_path))
    pgdata = get_settings().pgdata_dir
    url = database_url().replace("postgresql+psycopg2://", "postgresql://", 1)
    try:
        psycopg2.connect(url).close()
        assert "stopped" in invoke("db", "stop")
        assert not (pgdata / "postmaster.pid").exists()
        with pytest.raises(psycopg2.OperationalError):
            psycopg2.connect(url)
        assert "was not running" in invoke("db", "stop")
        assert invoke("db", "url").strip()  # started again, data kept
        assert (pgdata / "postmaster.pid").exists()
    finally:
        invoke("db", "stop")


def test_db_stop_leaves_a_configured_server_alone(monkeypatch):
    from tests.helpers import invoke

    monkeypatch.setenv("MATCHER_DATABASE_URL", "postgresql://a@b/c")
    assert "not matcher's to stop" in invoke("db", "stop")
