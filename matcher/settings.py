"""All configuration in one place, read from environment variables by :func:`get_settings`."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from matcher.errors import ConfigError

#: The checkout, when matcher runs from one (editable install): sql/ and alembic/ live here.
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: Where a built wheel carries its copies of sql/ and alembic/ (see setup.py).
PACKAGED_DATA = Path(__file__).resolve().parent / "_data"


def _data_folder(name: str) -> Path:
    packaged = PACKAGED_DATA / name
    return packaged if packaged.is_dir() else PROJECT_ROOT / name


SQL_DIR = _data_folder("sql")
ALEMBIC_DIR = _data_folder("alembic")


def _default_data_dir() -> Path:
    """``.matcher/`` in the checkout; for an installed wheel, ``~/.matcher``."""
    in_checkout = (PROJECT_ROOT / "pyproject.toml").is_file() and not PACKAGED_DATA.is_dir()
    return PROJECT_ROOT / ".matcher" if in_checkout else Path.home() / ".matcher"

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


@dataclass(frozen=True)
class Settings:
    """Runtime settings.

    Attributes
    ----------
    database_url:
        SQLAlchemy URL of the PostgreSQL database, normalised to psycopg2; ``None`` means
        "use the embedded server in ``data_dir / 'pgdata'``".
    data_dir:
        Folder for the embedded database and reports (``MATCHER_DATA_DIR``; default
        ``.matcher`` in the checkout, ``~/.matcher`` for an installed wheel).
    log_level:
        Logging level name (``MATCHER_LOG_LEVEL``, default ``INFO``).
    log_format:
        ``text`` or ``json`` (one JSON object per line with the run's id, stage, counts and
        seconds, for log collectors; ``MATCHER_LOG_FORMAT``, default ``text``).
    keep_batches:
        How many published recommendation batches to keep (``MATCHER_KEEP_BATCHES``, default 7).
    retrain_metric:
        Holdout metric a challenger must improve to be promoted by ``matcher retrain``
        (``MATCHER_RETRAIN_METRIC``, default ``ndcg@10``).
    retrain_margin:
        By how much it must improve it (``MATCHER_RETRAIN_MARGIN``, default 0.005).
    explore:
        Share of list slots from rank 4 on that ``matcher score`` draws at random from good
        candidates, logging the probability (``MATCHER_EXPLORE``, 0 to 0.5, default 0.1;
        never on the first night).
    model_key:
        Key that signs model artifacts (HMAC-SHA256), from ``MATCHER_MODEL_KEY`` or the file
        named by ``MATCHER_MODEL_KEY_FILE``; kept outside the database, so that whoever can
        write ``model_versions`` cannot make the nightly job load a model of their own.
        ``None``: artifacts are checked against their sha256 only.
    """

    database_url: str | None
    data_dir: Path
    log_level: str = "INFO"
    log_format: str = "text"
    keep_batches: int = 7
    retrain_metric: str = "ndcg@10"
    retrain_margin: float = 0.005
    explore: float = 0.1
    model_key: bytes | None = field(default=None, repr=False)

    @property
    def pgdata_dir(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"


def normalise_database_url(url: str) -> str:
    """Return ``url`` with the psycopg2 driver, the one driver matcher uses.

    ``postgres://`` and ``postgresql://`` (which SQLAlchemy 2.1 maps to psycopg 3) become
    ``postgresql+psycopg2://``. Anything that is not a PostgreSQL URL is a :class:`ConfigError`.
    """
    raw = url.strip()
    if raw.startswith("postgres://"):
        raw = "postgresql://" + raw[len("postgres://") :]
    try:
        parsed = make_url(raw)
    except ArgumentError as exc:
        raise ConfigError(
            f"MATCHER_DATABASE_URL is not a valid database URL ({exc}); "
            "expected e.g. postgresql://user@host:5432/dbname"
        ) from None
    if parsed.get_backend_name() != "postgresql":
        raise ConfigError(
            f"MATCHER_DATABASE_URL must point to PostgreSQL, got '{parsed.get_backend_name()}'"
        )
    if parsed.get_driver_name() not in ("psycopg2", "psycopg"):
        raise ConfigError(f"unsupported PostgreSQL driver '{parsed.get_driver_name()}'")
    return parsed.set(drivername="postgresql+psycopg2").render_as_string(hide_password=False)


def _number_env(name: str, default, minimum, parse=int, maximum=None):
    """A number from the environment (``parse`` is int or float), at least ``minimum`` (and
    at most ``maximum``)."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = parse(raw)
    except ValueError:
        kind = "a whole number" if parse is int else "a number"
        raise ConfigError(f"{name} must be {kind}, got '{raw}'") from None
    if value < minimum:
        raise ConfigError(f"{name} must be at least {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ConfigError(f"{name} must be at most {maximum}, got {value}")
    return value


def get_settings() -> Settings:
    """Build :class:`Settings` from the environment, validating every value."""
    url = os.environ.get("MATCHER_DATABASE_URL") or None
    level = os.environ.get("MATCHER_LOG_LEVEL", "INFO").upper()
    if level not in LOG_LEVELS:
        choices = ", ".join(LOG_LEVELS)
        raise ConfigError(f"MATCHER_LOG_LEVEL must be one of {choices}, got '{level}'")
    log_format = (os.environ.get("MATCHER_LOG_FORMAT") or "text").lower()
    if log_format not in ("text", "json"):
        raise ConfigError(f"MATCHER_LOG_FORMAT must be text or json, got '{log_format}'")
    return Settings(
        log_format=log_format,
        database_url=normalise_database_url(url) if url else None,
        data_dir=Path(os.environ.get("MATCHER_DATA_DIR") or _default_data_dir()).resolve(),
        log_level=level,
        keep_batches=_number_env("MATCHER_KEEP_BATCHES", 7, 1),
        retrain_metric=os.environ.get("MATCHER_RETRAIN_METRIC") or "ndcg@10",
        retrain_margin=_number_env("MATCHER_RETRAIN_MARGIN", 0.005, 0.0, float),
        explore=_number_env("MATCHER_EXPLORE", 0.1, 0.0, float, maximum=0.5),
        model_key=_model_key(),
    )


def _model_key() -> bytes | None:
    """``MATCHER_MODEL_KEY``, or the content of ``MATCHER_MODEL_KEY_FILE``; at least 16 bytes."""
    key = os.environ.get("MATCHER_MODEL_KEY") or None
    source = "MATCHER_MODEL_KEY"
    path = os.environ.get("MATCHER_MODEL_KEY_FILE") or None
    if key is None and path is not None:
        source = f"MATCHER_MODEL_KEY_FILE ({path})"
        try:
            key = Path(path).read_text().strip()
        except OSError as exc:
            raise ConfigError(f"{source} cannot be read: {exc.strerror}") from None
    if key is None:
        return None
    if len(key) < 16:
        raise ConfigError(f"{source} is too short to be a signing key: use at least 16 "
                          "characters (e.g. the output of `openssl rand -hex 32`)")
    return key.encode()
