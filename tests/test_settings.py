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
