"""docker-compose.yml parses and wires matcher to a healthy PostgreSQL 16."""

from pathlib import Path

import yaml

COMPOSE = Path(__file__).resolve().parent.parent / "docker-compose.yml"


def test_compose_file_defines_postgres_with_healthcheck_and_matcher_waiting_for_it():
    spec = yaml.safe_load(COMPOSE.read_text())
    services = spec["services"]
    postgres = services["postgres"]
    assert postgres["image"].startswith("postgres:16")
    assert "pg_isready" in " ".join(postgres["healthcheck"]["test"])
    assert any(v.endswith(":/var/lib/postgresql/data") for v in postgres["volumes"])
    volume_name = postgres["volumes"][0].split(":")[0]
    assert volume_name in spec["volumes"]

    matcher = services["matcher"]
    assert matcher["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "@postgres:5432/" in matcher["environment"]["MATCHER_DATABASE_URL"]
    assert matcher["command"][:2] == ["db", "upgrade"]


def test_nightly_profile_scores_every_night_and_retrains_every_week():
    services = yaml.safe_load(COMPOSE.read_text())["services"]
    score, retrain = services["nightly-score"], services["weekly-retrain"]
    assert score["profiles"] == retrain["profiles"] == ["nightly"]
    assert "matcher score; sleep 86400" in " ".join(score["entrypoint"])
    assert "matcher retrain; sleep 604800" in " ".join(retrain["entrypoint"])
